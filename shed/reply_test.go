package shed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestReply(t *testing.T) {
	limiter := newLimiter(t, LimiterConfig{MaxInflight: 1, QueueTimeout: 50 * time.Millisecond})
	full := newLimiter(t, LimiterConfig{MaxInflight: 1})
	rate := newRate(t, RateConfig{Rate: 1000, PerClientRate: 100})
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"queue timeout", limiter.errTimeout, "SHED overloaded: no fetch slot within 50ms; retry later"},
		{"full, no queue", full.errFull, "SHED overloaded: no fetch slot free; retry later"},
		{"wrapped", fmt.Errorf("get k: %w", limiter.errTimeout), "SHED overloaded: no fetch slot within 50ms; retry later"},
		{"client rate", rate.errClient, "SHED rate limited: client over 100 requests/s; retry later"},
		{"global rate", rate.errGlobal, "SHED rate limited: over 1000 requests/s; retry later"},
		{"bare overloaded", ErrOverloaded, "SHED overloaded; retry later"},
		{"bare rate limited", fmt.Errorf("x: %w", ErrRateLimited), "SHED rate limited; retry later"},
		{"breaker open", &OpenError{Target: "origin http://api:8080/v1/{key}", State: Open},
			"BREAKER open: origin http://api:8080/v1/{key} is failing; retry later"},
		{"breaker probing", fmt.Errorf("load: %w", &OpenError{Target: "store 10.0.0.3:7379", State: HalfOpen}),
			"BREAKER open: store 10.0.0.3:7379 is being probed after failures; retry later"},
		{"breaker without target", &OpenError{State: Open}, "BREAKER open: upstream is failing; retry later"},
		{"target on one line", &OpenError{Target: "a\r\nb", State: Open}, "BREAKER open: a  b is failing; retry later"},
		{"bare open", ErrOpen, "BREAKER open; retry later"},
		{"nil", nil, ""},
		{"unrelated", errors.New("boom"), ""},
		{"canceled", context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reply(tt.err)
			if got != tt.want {
				t.Fatalf("Reply(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if got == "" {
				return
			}
			word, _, _ := strings.Cut(got, " ")
			if word != ReplyShed && word != ReplyBreaker {
				t.Fatalf("prefix %q", word)
			}
		})
	}
}

// TestReplyNotRetriedByGoRedis checks with a real go-redis client that a
// command answered with a Reply text is sent once, while LOADING, the
// control, is retried.
func TestReplyNotRetriedByGoRedis(t *testing.T) {
	tests := []struct {
		name      string
		reply     string
		wantSends int32
	}{
		{"overloaded", Reply(ErrOverloaded), 1},
		{"rate limited", Reply(ErrRateLimited), 1},
		{"breaker open", Reply(&OpenError{Target: "origin", State: Open}), 1},
		{"control: LOADING is retried", "LOADING Redis is loading the dataset in memory", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, sends := errorServer(t, tt.reply)
			c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true,
				MaxRetries: 3, MinRetryBackoff: -1, MaxRetryBackoff: -1})
			defer c.Close()
			err := c.Get(context.Background(), "k").Err()
			if err == nil || err.Error() != tt.reply {
				t.Fatalf("GET err = %v, want %q", err, tt.reply)
			}
			if got := sends.Load(); got != tt.wantSends {
				t.Fatalf("GET sent %d times, want %d", got, tt.wantSends)
			}
		})
	}
}

// errorServer serves RESP on a loopback port: it answers every GET with
// -reply and counts them, and anything else (HELLO, ...) with an error.
func errorServer(t *testing.T, reply string) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var sends atomic.Int32
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					args, err := readCommand(r)
					if err != nil {
						return
					}
					out := "-ERR unknown command\r\n"
					if strings.EqualFold(args[0], "GET") {
						sends.Add(1)
						out = "-" + reply + "\r\n"
					}
					if _, err := io.WriteString(conn, out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), &sends
}

// readCommand reads one multibulk command.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "*"), "\r\n"))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("bad command header %q", line)
	}
	args := make([]string, n)
	for i := range args {
		if line, err = r.ReadString('\n'); err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "$"), "\r\n"))
		if err != nil || size < 0 {
			return nil, fmt.Errorf("bad bulk header %q", line)
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:size])
	}
	return args, nil
}
