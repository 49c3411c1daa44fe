// Package collapse collapses concurrent requests for the same key into one
// execution: a singleflight that honours each caller's context.
//
// A Group runs the function given to Do once per key at a time. Callers that
// arrive while a flight for their key is running wait for its result instead
// of starting their own. The function runs under context.WithoutCancel of the
// first caller's context, so no single caller giving up cancels the load the
// others are waiting for; the function is responsible for its own timeout.
// Each caller still stops waiting as soon as its own context is done.
//
// Nothing is cached: once a flight completes, the next Do for the key starts
// a new one. Callers that want caching put a cache in front of the Group.
//
// A panic in the function is recovered and delivered to every waiter as a
// *PanicError; it never crashes the process nor leaves waiters hanging.
package collapse
