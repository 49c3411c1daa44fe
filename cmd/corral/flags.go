package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// usageError is a bad command line: the process exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// flags is one role's flag set, bound to CORRAL_* environment variables.
type flags struct {
	*flag.FlagSet
	role string
}

func newFlags(role, summary string, out io.Writer) *flags {
	fs := flag.NewFlagSet("corral "+role, flag.ContinueOnError)
	fs.SetOutput(out)
	f := &flags{FlagSet: fs, role: role}
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: corral %s [flags]\n\n%s\n\nFlags (each also read from the environment variable shown; flags win):\n", role, summary)
		fs.VisitAll(func(fl *flag.Flag) {
			name, usage := flag.UnquoteUsage(fl)
			line := "  --" + fl.Name
			if name != "" {
				line += " " + name
			}
			fmt.Fprintf(out, "%s\n    \t%s (default %q; env %s)\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"), fl.DefValue, envName(fl.Name))
		})
	}
	return f
}

// envName maps a flag to its environment variable: --l1-max-age ->
// CORRAL_L1_MAX_AGE.
func envName(flagName string) string {
	return "CORRAL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse reads args, then fills every flag not given on the command line
// from its environment variable. Errors name the flag or variable.
func (f *flags) parse(args []string, getenv func(string) string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("corral %s: %v", f.role, err)
	}
	if f.NArg() > 0 {
		return usagef("corral %s: unexpected argument %q", f.role, f.Arg(0))
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] {
			return
		}
		env := envName(fl.Name)
		if v := getenv(env); v != "" {
			if err := fl.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("invalid value %q for %s: %v", v, env, err))
			}
		}
	})
	if len(errs) > 0 {
		return usagef("corral %s: %v", f.role, errors.Join(errs...))
	}
	return nil
}

// sizeFlag is a byte count in Redis's unit syntax: 100, 1k (1000), 1kb
// (1024), 512mb, 1gb.
type sizeFlag struct{ n *int64 }

func (s sizeFlag) String() string {
	if s.n == nil {
		return "0"
	}
	return formatSize(*s.n)
}

func (s sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s.n = n
	return nil
}

func (f *flags) size(p *int64, name string, def int64, usage string) {
	*p = def
	f.Var(sizeFlag{p}, name, usage)
}

// parseSize implements Redis's memtoll.
func parseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	units := []struct {
		suffix string
		mul    int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}}
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = strings.TrimSuffix(s, u.suffix), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size: %q (use a byte count or units like 512mb, 1gb)", v)
	}
	if n > 0 && mul > (1<<63-1)/n {
		return 0, fmt.Errorf("size %q overflows", v)
	}
	return n * mul, nil
}

func formatSize(n int64) string {
	switch {
	case n > 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "gb"
	case n > 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "mb"
	case n > 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "kb"
	}
	return strconv.FormatInt(n, 10)
}

// secondsFlag is a duration given as whole seconds, as Redis's timeout is,
// or as a Go duration ("90s", "5m").
type secondsFlag struct{ d *time.Duration }

func (s secondsFlag) String() string {
	if s.d == nil || *s.d == 0 {
		return "0"
	}
	if *s.d%time.Second == 0 {
		return strconv.FormatInt(int64(*s.d/time.Second), 10)
	}
	return s.d.String()
}

func (s secondsFlag) Set(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		*s.d = time.Duration(n) * time.Second
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("not a duration: %q (seconds, or like 90s, 5m)", v)
	}
	*s.d = d
	return nil
}

// outputLimitFlag is --client-output-buffer-limit: "[normal] hard soft
// seconds", Redis's syntax for the normal client class (sizes with units,
// seconds as an integer or a duration).
type outputLimitFlag struct {
	hard, soft *int64
	secs       *time.Duration
}

func (o outputLimitFlag) String() string {
	if o.hard == nil {
		return "0 0 0"
	}
	return formatSize(*o.hard) + " " + formatSize(*o.soft) + " " + secondsFlag{o.secs}.String()
}

func (o outputLimitFlag) Set(v string) error {
	f := strings.Fields(v)
	if len(f) == 4 {
		if !strings.EqualFold(f[0], "normal") {
			return fmt.Errorf("class %q: corral's clients are all of the normal class; give \"hard soft seconds\"", f[0])
		}
		f = f[1:]
	}
	if len(f) != 3 {
		return errors.New(`want "hard soft seconds", e.g. "256mb 64mb 60" (0 0 0: no limit)`)
	}
	hard, err := parseSize(f[0])
	if err != nil {
		return fmt.Errorf("hard limit: %w", err)
	}
	soft, err := parseSize(f[1])
	if err != nil {
		return fmt.Errorf("soft limit: %w", err)
	}
	var secs time.Duration
	if err := (secondsFlag{&secs}).Set(f[2]); err != nil {
		return fmt.Errorf("soft seconds: %w", err)
	}
	*o.hard, *o.soft, *o.secs = hard, soft, secs
	return nil
}
