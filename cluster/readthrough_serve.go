package cluster

import (
	"sync"

	"corral/internal/server"
)

// serveGet answers GET key through the read-through.
func (s *Store) serveGet(c *server.Conn, key []byte) {
	r, err := s.rt.get(c.Context(), key, c.RemoteHost(), c.Now())
	switch {
	case err != nil:
		c.W.Error(replyFor(err))
	case r.found:
		c.W.Bulk(r.value)
	default:
		c.W.Null()
	}
}

// serveMGet answers MGET through the read-through: keys the engine holds
// at once, the others loaded concurrently (each collapsed with every other
// reader of the key). If any load fails with no stale value to serve, the
// reply is that error.
func (s *Store) serveMGet(c *server.Conn, keys [][]byte) {
	now := c.Now()
	nowMs := now.UnixMilli()
	out := make([]loadResult, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		if rec, ok := s.eng.Get(k, nowMs); ok {
			s.rt.maybeEarly(k, rec, now)
			out[i] = loadResult{rec.Value, true}
			continue
		}
		wg.Go(func() { out[i], errs[i] = s.rt.get(c.Context(), k, c.RemoteHost(), now) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.W.Error(replyFor(err))
			return
		}
	}
	c.W.Array(len(keys))
	for _, r := range out {
		if r.found {
			c.W.Bulk(r.value)
		} else {
			c.W.Null()
		}
	}
}
