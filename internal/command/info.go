package command

import "corral/internal/resp"

// WriteInfo appends s's COMMAND INFO entry (one element of the COMMAND,
// COMMAND INFO reply array), byte-identical to redis-server 7.0.15 in the
// writer's protocol. A container's entry lists only the subcommands corral
// serves. For a name COMMAND INFO cannot resolve, Redis writes a null
// element instead: w.Null().
func WriteInfo(w *resp.Writer, s *Spec) {
	if w.Is3() {
		w.RawString(s.info3)
		return
	}
	w.RawString(s.info2)
}

// WriteDocs appends the value half of s's COMMAND DOCS entry (the doc
// map), byte-identical to redis-server 7.0.15 in the writer's protocol.
// COMMAND DOCS replies with a map of name to doc map and leaves unknown
// names out, so the caller writes w.Map(n), then for each found spec
// w.BulkString(s.Name) and WriteDocs(w, s).
func WriteDocs(w *resp.Writer, s *Spec) {
	if w.Is3() {
		w.RawString(s.docs3)
		return
	}
	w.RawString(s.docs2)
}

// WriteHelp appends the reply of s's HELP subcommand (s may be the
// container or its HELP subcommand) and reports whether there is one.
// CLIENT HELP is redis-server 7.0.15's text verbatim, so it also lists the
// subcommands corral does not serve.
func WriteHelp(w *resp.Writer, s *Spec) bool {
	if p := s.Parent(); p != nil {
		s = p
	}
	if s.help == "" {
		return false
	}
	w.RawString(s.help)
	return true
}
