package origin

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/testkit"
)

// seedClient returns a go-redis client for addr's database db, closed when
// the test ends, to set up what the origin holds.
func seedClient(t *testing.T, addr, password string, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Password: password, DB: db, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisLoad(t *testing.T) {
	addr := testkit.StartRedis(t)
	seed := seedClient(t, addr, "", 0)
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(seed.Set(ctx, "expiring", "v1", time.Minute).Err())
	must(seed.Set(ctx, "forever", "v2", 0).Err())
	must(seed.Set(ctx, "empty", "", 0).Err())
	must(seed.Set(ctx, "exact", "0123456789", 0).Err())
	must(seed.Set(ctx, "big", "0123456789a", 0).Err())
	must(seed.Set(ctx, "bin\x00 /?key", "\x00\xff", 0).Err())
	must(seed.RPush(ctx, "list", "x").Err())
	must(seedClient(t, addr, "", 3).Set(ctx, "in-db-3", "v3", 0).Err())

	o := newTestOrigin(t, "redis://"+addr, func(c *Config) { c.MaxBytes = 10 })
	o3 := newTestOrigin(t, "redis://"+addr+"/3", nil)
	tests := []struct {
		name    string
		o       *Origin
		key     string
		want    Result
		wantErr string // substring; "" for none
		tooBig  bool
	}{
		{"value and PTTL", o, "expiring", Result{Value: []byte("v1"), Found: true, TTL: time.Minute}, "", false},
		{"no TTL: DefaultTTL", o, "forever", Result{Value: []byte("v2"), Found: true, TTL: 42 * time.Second}, "", false},
		{"empty value", o, "empty", Result{Value: []byte{}, Found: true, TTL: 42 * time.Second}, "", false},
		{"binary key and value", o, "bin\x00 /?key", Result{Value: []byte("\x00\xff"), Found: true, TTL: 42 * time.Second}, "", false},
		{"missing: negative", o, "missing", Result{TTL: 7 * time.Second}, "", false},
		{"at MaxBytes", o, "exact", Result{Value: []byte("0123456789"), Found: true, TTL: 42 * time.Second}, "", false},
		{"over MaxBytes", o, "big", Result{}, `GET "big" from redis://` + addr, true},
		{"wrong type", o, "list", Result{}, `origin: GET "list" from redis://` + addr + ": WRONGTYPE", false},
		{"database from the URL", o3, "in-db-3", Result{Value: []byte("v3"), Found: true, TTL: 42 * time.Second}, "", false},
		{"other databases unseen", o3, "forever", Result{TTL: 7 * time.Second}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.Load(t.Context(), tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error %v, want one containing %q", err, tt.wantErr)
				}
				if tt.tooBig != errors.Is(err, ErrTooLarge) {
					t.Errorf("Load error %v: errors.Is ErrTooLarge = %v, want %v", err, !tt.tooBig, tt.tooBig)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			ttlOK := got.TTL == tt.want.TTL
			if tt.key == "expiring" { // PTTL has counted down since SET
				ttlOK = got.TTL > tt.want.TTL-30*time.Second && got.TTL <= tt.want.TTL
			}
			if string(got.Value) != string(tt.want.Value) || (got.Value == nil) != (tt.want.Value == nil) ||
				got.Found != tt.want.Found || !ttlOK || got.NoStore != tt.want.NoStore {
				t.Errorf("Load = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRedisPassword(t *testing.T) {
	addr := testkit.StartRedis(t)
	admin := seedClient(t, addr, "", 0)
	if err := admin.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// testkit's readiness PING needs no password, so set it afterwards.
	if err := admin.ConfigSet(t.Context(), "requirepass", "s3cret-pw").Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		url     string
		shown   string
		wantErr string
	}{
		{"password only", "redis://:s3cret-pw@" + addr + "/0", "redis://:xxxxx@" + addr + "/0", ""},
		{"user and password", "redis://default:s3cret-pw@" + addr, "redis://default:xxxxx@" + addr, ""},
		{"wrong password", "redis://:wr0ng-pw@" + addr, "redis://:xxxxx@" + addr, "WRONGPASS"},
		{"no password", "redis://" + addr, "redis://" + addr, "NOAUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrigin(t, tt.url, nil)
			if got := o.String(); got != tt.shown {
				t.Errorf("String() = %q, want %q", got, tt.shown)
			}
			res, err := o.Load(t.Context(), "k")
			if tt.wantErr == "" {
				if err != nil || string(res.Value) != "v" {
					t.Fatalf("Load = %+v, %v", res, err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an authentication error")
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cret-pw") || strings.Contains(msg, "wr0ng-pw") {
				t.Errorf("Load error %q shows a password", msg)
			}
			if want := `origin: GET "k" from ` + tt.shown + ": "; !strings.HasPrefix(msg, want) || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("Load error %q, want prefix %q and %q", msg, want, tt.wantErr)
			}
		})
	}
}

// silentServer accepts connections and never answers, until the test ends.
// It returns its address.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards conns
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

func TestRedisTimeout(t *testing.T) {
	addr := silentServer(t)
	tests := []struct {
		name    string
		timeout time.Duration // Config.Timeout
		ctx     time.Duration // the caller's deadline; 0 for none
	}{
		{"Config.Timeout", 50 * time.Millisecond, 0},
		{"caller's deadline first", time.Minute, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrigin(t, "redis://:pw@"+addr, func(c *Config) { c.Timeout = tt.timeout })
			ctx := t.Context()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			start := time.Now()
			_, err := o.Load(ctx, "k")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Load error %v, want context.DeadlineExceeded", err)
			}
			if want := `origin: GET "k" from redis://:xxxxx@` + addr + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Load error %q, want prefix %q", err, want)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Load took %v to give up", took)
			}
		})
	}
}

func TestRedisConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	o := newTestOrigin(t, "redis://:pw@"+addr, nil)
	_, err = o.Load(t.Context(), "k")
	if err == nil {
		t.Fatal("Load succeeded against a closed port")
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Load error %v does not wrap the *net.OpError", err)
	}
	if want := `origin: GET "k" from redis://:xxxxx@` + addr + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load error %q, want prefix %q", err, want)
	}
}

func TestRedisConcurrentLoads(t *testing.T) {
	addr := testkit.StartRedis(t)
	seed := seedClient(t, addr, "", 0)
	for i := range 32 {
		if err := seed.Set(t.Context(), "k"+string(rune('a'+i)), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	o := newTestOrigin(t, "redis://"+addr, nil)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			key := "k" + string(rune('a'+i%32))
			res, err := o.Load(t.Context(), key)
			if err != nil || !res.Found || res.TTL != 42*time.Second {
				t.Errorf("Load(%q) = %+v, %v", key, res, err)
			}
		})
	}
	wg.Wait()
}
