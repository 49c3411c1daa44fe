package compat_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clientTimeout bounds each go-redis call.
const clientTimeout = 5 * time.Second

// TestGoRedis drives the proxy (in front of a store) with go-redis v9 over
// RESP2 and RESP3 and checks that each call returns the right typed value.
// go-redis's connection set-up (HELLO, CLIENT SETINFO) must pass too.
func TestGoRedis(t *testing.T) {
	px := startProxy(t, targetProxyStore, startStore(t, access{}), access{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{
				Addr:        px.addr,
				Protocol:    proto,
				MaxRetries:  -1,
				DialTimeout: clientTimeout, ReadTimeout: clientTimeout, WriteTimeout: clientTimeout,
			})
			t.Cleanup(func() { rdb.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatalf("FLUSHALL: %v", err)
			}
			for _, tc := range goRedisCases {
				t.Run(tc.name, func(t *testing.T) {
					if err := tc.run(ctx, rdb); err != nil {
						t.Error(err)
					}
				})
			}
		})
	}
}

// goRedisCases run in order on one client; later ones use earlier keys.
var goRedisCases = []struct {
	name string
	run  func(ctx context.Context, rdb *redis.Client) error
}{
	{"Ping", func(ctx context.Context, rdb *redis.Client) error {
		return want(rdb.Ping(ctx).Result())("PONG")
	}},
	{"Set and Get", func(ctx context.Context, rdb *redis.Client) error {
		if err := want(rdb.Set(ctx, "gr:k", "v", 0).Result())("OK"); err != nil {
			return err
		}
		return want(rdb.Get(ctx, "gr:k").Result())("v")
	}},
	{"Get missing is redis.Nil", func(ctx context.Context, rdb *redis.Client) error {
		if _, err := rdb.Get(ctx, "gr:none").Result(); !errors.Is(err, redis.Nil) {
			return fmt.Errorf("GET of a missing key: err %v, want redis.Nil", err)
		}
		return nil
	}},
	{"SetArgs with Get", func(ctx context.Context, rdb *redis.Client) error {
		return want(rdb.SetArgs(ctx, "gr:k", "w", redis.SetArgs{Get: true}).Result())("v")
	}},
	{"SetNX", func(ctx context.Context, rdb *redis.Client) error {
		if err := want(rdb.SetNX(ctx, "gr:nx", "1", 0).Result())(true); err != nil {
			return err
		}
		return want(rdb.SetNX(ctx, "gr:nx", "2", 0).Result())(false)
	}},
	{"Incr", func(ctx context.Context, rdb *redis.Client) error {
		if err := want(rdb.Incr(ctx, "gr:n").Result())(int64(1)); err != nil {
			return err
		}
		return want(rdb.IncrBy(ctx, "gr:n", 41).Result())(int64(42))
	}},
	{"Incr of a non-integer is Redis's error", func(ctx context.Context, rdb *redis.Client) error {
		_, err := rdb.Incr(ctx, "gr:k").Result()
		if err == nil || err.Error() != "ERR value is not an integer or out of range" {
			return fmt.Errorf("INCR of a string: err %v", err)
		}
		return nil
	}},
	{"IncrByFloat", func(ctx context.Context, rdb *redis.Client) error {
		return want(rdb.IncrByFloat(ctx, "gr:f", 1.5).Result())(1.5)
	}},
	{"MGet", func(ctx context.Context, rdb *redis.Client) error {
		return want(rdb.MGet(ctx, "gr:k", "gr:none", "gr:n").Result())([]any{"w", nil, "42"})
	}},
	{"MSet", func(ctx context.Context, rdb *redis.Client) error {
		return want(rdb.MSet(ctx, "gr:a", "1", "gr:b", "2").Result())("OK")
	}},
	{"Expire and TTL", func(ctx context.Context, rdb *redis.Client) error {
		if err := want(rdb.Expire(ctx, "gr:a", 100*time.Second).Result())(true); err != nil {
			return err
		}
		d, err := rdb.TTL(ctx, "gr:a").Result()
		if err != nil || d < 98*time.Second || d > 100*time.Second {
			return fmt.Errorf("TTL = %v, %v; want about 100s", d, err)
		}
		d, err = rdb.PTTL(ctx, "gr:a").Result()
		if err != nil || d < 98*time.Second || d > 100*time.Second {
			return fmt.Errorf("PTTL = %v, %v; want about 100s", d, err)
		}
		if err := want(rdb.TTL(ctx, "gr:b").Result())(time.Duration(-1)); err != nil {
			return err
		}
		return want(rdb.TTL(ctx, "gr:none").Result())(time.Duration(-2))
	}},
	{"ExpireAt and ExpireTime", func(ctx context.Context, rdb *redis.Client) error {
		at := time.Unix(4102444800, 0)
		if err := want(rdb.ExpireAt(ctx, "gr:b", at).Result())(true); err != nil {
			return err
		}
		return want(rdb.ExpireTime(ctx, "gr:b").Result())(4102444800 * time.Second)
	}},
	{"GetEx and Persist", func(ctx context.Context, rdb *redis.Client) error {
		if err := want(rdb.GetEx(ctx, "gr:b", 50*time.Second).Result())("2"); err != nil {
			return err
		}
		return want(rdb.Persist(ctx, "gr:b").Result())(true)
	}},
	{"Exists and Type", func(ctx context.Context, rdb *redis.Client) error {
		if err := want(rdb.Exists(ctx, "gr:a", "gr:b", "gr:none").Result())(int64(2)); err != nil {
			return err
		}
		return want(rdb.Type(ctx, "gr:a").Result())("string")
	}},
	{"Scan", func(ctx context.Context, rdb *redis.Client) error {
		var keys []string
		iter := rdb.Scan(ctx, 0, "gr:*", 2).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return err
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		return want(keys, nil)([]string{"gr:a", "gr:b", "gr:f", "gr:k", "gr:n", "gr:nx"})
	}},
	{"Del", func(ctx context.Context, rdb *redis.Client) error {
		if err := want(rdb.Del(ctx, "gr:a", "gr:b", "gr:none").Result())(int64(2)); err != nil {
			return err
		}
		return want(rdb.Unlink(ctx, "gr:nx").Result())(int64(1))
	}},
	{"Pipeline", func(ctx context.Context, rdb *redis.Client) error {
		pipe := rdb.Pipeline()
		set := pipe.Set(ctx, "gr:p", "1", 0)
		incr := pipe.Incr(ctx, "gr:p")
		get := pipe.Get(ctx, "gr:p")
		miss := pipe.Get(ctx, "gr:none")
		mget := pipe.MGet(ctx, "gr:p", "gr:none")
		ttl := pipe.TTL(ctx, "gr:p")
		del := pipe.Del(ctx, "gr:p")
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("pipeline: %v", err)
		}
		if _, err := miss.Result(); !errors.Is(err, redis.Nil) {
			return fmt.Errorf("pipelined GET of a missing key: err %v, want redis.Nil", err)
		}
		return errors.Join(
			want(set.Result())("OK"),
			want(incr.Result())(int64(2)),
			want(get.Result())("2"),
			want(mget.Result())([]any{"2", nil}),
			want(ttl.Result())(time.Duration(-1)),
			want(del.Result())(int64(1)),
		)
	}},
	{"ClientGetName after SetName", func(ctx context.Context, rdb *redis.Client) error {
		conn := rdb.Conn()
		defer conn.Close()
		if err := want(conn.ClientSetName(ctx, "gr-conn").Result())(true); err != nil {
			return err
		}
		return want(conn.ClientGetName(ctx).Result())("gr-conn")
	}},
}

// want returns a checker comparing a go-redis result with the expected
// value, type included.
func want[T any](got T, err error) func(T) error {
	return func(exp T) error {
		if err != nil {
			return fmt.Errorf("unexpected error %v (want %#v)", err, exp)
		}
		if fmt.Sprintf("%T %#v", got, got) != fmt.Sprintf("%T %#v", exp, exp) {
			return fmt.Errorf("got %T %#v, want %T %#v", got, got, exp, exp)
		}
		return nil
	}
}
