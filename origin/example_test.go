package origin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"corral/origin"
)

func Example() {
	// An application's HTTP service: users it knows, cached for 30s.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "42" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=30")
		fmt.Fprint(w, `{"name":"Ada"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := origin.DefaultConfig()
	cfg.URL = srv.URL + "/users/{key}"
	o, err := origin.New(cfg)
	if err != nil {
		panic(err)
	}
	defer o.Close()

	ctx := context.Background()
	for _, key := range []string{"42", "7"} {
		res, err := o.Load(ctx, key)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: found=%v value=%s ttl=%v no-store=%v\n", key, res.Found, res.Value, res.TTL, res.NoStore)
	}
	// Output:
	// 42: found=true value={"name":"Ada"} ttl=30s no-store=false
	// 7: found=false value= ttl=5s no-store=false
}
