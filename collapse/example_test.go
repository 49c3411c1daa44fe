package collapse_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"

	"corral/collapse"
)

func ExampleGroup() {
	g := collapse.New[string](collapse.Config{Name: "example"})
	ctx := context.Background()

	var loads atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	load := func(ctx context.Context) (string, error) {
		if loads.Add(1) == 1 {
			close(started)
		}
		<-release // a slow origin
		return "value", nil
	}

	type answer struct {
		v      string
		shared bool
	}
	answers := make(chan answer, 2)
	ask := func() {
		v, shared, err := g.Do(ctx, "user:42", load)
		if err != nil {
			panic(err)
		}
		answers <- answer{v, shared}
	}

	go ask()
	<-started // the first caller's load is running
	go ask()
	for g.Waiters("user:42") != 1 { // the second caller has joined it
		runtime.Gosched()
	}
	close(release)

	for range 2 {
		a := <-answers
		fmt.Println(a.v, a.shared)
	}
	fmt.Println("loads:", loads.Load())
	// Output:
	// value true
	// value true
	// loads: 1
}
