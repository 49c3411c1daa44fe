package command

// ListFilter is a parsed COMMAND LIST [FILTERBY MODULE name | ACLCAT cat |
// PATTERN pattern]. The zero value matches every command.
type ListFilter struct {
	kind listFilterKind
	arg  []byte
}

type listFilterKind uint8

const (
	listAll listFilterKind = iota
	listModule
	listACLCat
	listPattern
)

// ParseCommandList parses COMMAND LIST's arguments (args is the whole
// argv, "command", "list", ...). Anything but no option or exactly
// FILTERBY with a known type and one argument is a syntax error, as in
// Redis 7.0.
func ParseCommandList(args [][]byte) (ListFilter, error) {
	if len(args) == 2 {
		return ListFilter{}, nil
	}
	if len(args) != 5 || !cstrEqualFold(args[2], "filterby") {
		return ListFilter{}, ErrSyntax
	}
	f := ListFilter{arg: cstr(args[4])}
	switch t := args[3]; {
	case cstrEqualFold(t, "module"):
		f.kind = listModule
	case cstrEqualFold(t, "aclcat"):
		f.kind = listACLCat
	case cstrEqualFold(t, "pattern"):
		f.kind = listPattern
		f.arg = args[4]
	default:
		return ListFilter{}, ErrSyntax
	}
	return f, nil
}

// Match reports whether COMMAND LIST with f lists s. MODULE never matches
// (corral has no modules); ACLCAT compares the category name without its
// '@', ignoring case; PATTERN glob-matches the full name ignoring case.
// Redis tests each subcommand on its own, so callers walk List().
func (f ListFilter) Match(s *Spec) bool {
	switch f.kind {
	case listModule:
		return false
	case listACLCat:
		for _, c := range s.acl {
			if cstrEqualFold(f.arg, c[1:]) {
				return true
			}
		}
		return false
	case listPattern:
		return Match(f.arg, []byte(s.Name), true)
	}
	return true
}
