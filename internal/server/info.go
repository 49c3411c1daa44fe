package server

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// InfoLine appends "key:value\r\n" to dst; roles use it to build their INFO
// sections.
func InfoLine(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, ':')
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

// InfoInt appends "key:n\r\n" to dst.
func InfoInt(dst []byte, key string, n int64) []byte {
	dst = append(dst, key...)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

type infoSection struct {
	name   string
	append func(dst []byte) []byte
	isDflt bool
}

// info implements INFO [section ...]: the server's own sections (server,
// clients, stats) and the role's, in Redis's section order and format:
// "# Name\r\n" headings, "key:value\r\n" lines, a blank line between
// sections.
func (c *Conn) info(args [][]byte) {
	sections := []infoSection{
		{"server", c.srv.infoServer, true},
		{"clients", c.srv.infoClients, true},
		{"stats", c.srv.infoStats, true},
	}
	for _, s := range c.srv.handler.InfoSections() {
		i := slices.IndexFunc(sections, func(x infoSection) bool { return x.name == s.Name })
		if i < 0 {
			sections = append(sections, infoSection{s.Name, s.Append, true})
			continue
		}
		// The role adds lines to one of the server's sections (stats).
		own, more := sections[i].append, s.Append
		sections[i].append = func(dst []byte) []byte { return more(own(dst)) }
	}
	slices.SortStableFunc(sections, func(a, b infoSection) int {
		return infoRank(a.name) - infoRank(b.name)
	})

	want := map[string]bool{}
	all := len(args) == 0
	for _, a := range args {
		switch n := strings.ToLower(string(a)); n {
		case "all", "everything", "default":
			all = true
		default:
			want[n] = true
		}
	}
	var out []byte
	for _, s := range sections {
		if !all && !want[s.name] {
			continue
		}
		if len(out) > 0 {
			out = append(out, '\r', '\n')
		}
		out = append(out, "# "...)
		out = append(out, strings.ToUpper(s.name[:1])+s.name[1:]...)
		out = append(out, '\r', '\n')
		out = s.append(out)
	}
	c.W.Verbatim("txt", string(out))
}

// infoOrder is the order of Redis 7.0's INFO sections.
var infoOrder = [...]string{"server", "clients", "memory", "persistence", "stats", "replication",
	"cpu", "modules", "errorstats", "cluster", "keyspace"}

// infoRank orders INFO sections as Redis does; sections Redis does not
// have (the proxy's) come after its others and before keyspace, which
// Redis always lists last.
func infoRank(name string) int {
	if name == "keyspace" {
		return len(infoOrder)
	}
	if i := slices.Index(infoOrder[:], name); i >= 0 {
		return i
	}
	return len(infoOrder) - 1
}

func (s *Server) infoServer(dst []byte) []byte {
	up := s.clock.Now().Sub(s.started)
	_, port, _ := strings.Cut(s.Addr(), "]:")
	if port == "" {
		_, port, _ = strings.Cut(s.Addr(), ":")
	}
	dst = InfoLine(dst, "redis_version", RedisVersion)
	dst = InfoLine(dst, "redis_mode", "standalone")
	dst = InfoLine(dst, "corral_version", s.cfg.Version)
	dst = InfoLine(dst, "corral_role", s.cfg.Role)
	dst = InfoLine(dst, "os", runtime.GOOS+" "+runtime.GOARCH)
	dst = InfoInt(dst, "arch_bits", strconv.IntSize)
	dst = InfoLine(dst, "go_version", runtime.Version())
	dst = InfoInt(dst, "process_id", int64(os.Getpid()))
	dst = InfoLine(dst, "tcp_port", port)
	dst = InfoInt(dst, "server_time_usec", s.clock.Now().UnixMicro())
	dst = InfoInt(dst, "uptime_in_seconds", int64(up/time.Second))
	dst = InfoInt(dst, "uptime_in_days", int64(up/(24*time.Hour)))
	return dst
}

func (s *Server) infoClients(dst []byte) []byte {
	dst = InfoInt(dst, "connected_clients", int64(s.Clients()))
	dst = InfoInt(dst, "maxclients", int64(s.cfg.MaxClients))
	dst = InfoInt(dst, "blocked_clients", 0)
	return dst
}

func (s *Server) infoStats(dst []byte) []byte {
	dst = InfoInt(dst, "total_connections_received", s.metrics.totalConns.Load())
	dst = InfoInt(dst, "total_commands_processed", s.metrics.commands.total())
	dst = InfoInt(dst, "rejected_connections", s.metrics.rejectedMax.Load())
	dst = InfoInt(dst, "client_output_buffer_limit_disconnections", s.metrics.outputLimited.Load())
	return dst
}
