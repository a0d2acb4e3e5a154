package diagnose

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ServerBlock is one server { ... } block of an nginx.conf.
type ServerBlock struct {
	Names   []string // server_name arguments, unquoted
	Default bool     // listens with default_server
	Text    string
}

// ServerBlocks returns the server blocks of an nginx.conf one level down
// (those directly inside http, and stream's). Braces in comments and
// quoted strings are ignored.
func ServerBlocks(conf string) []ServerBlock {
	var out []ServerBlock
	for _, b := range blocks(conf) {
		if b.depth == 1 && b.head == "server" {
			out = append(out, parseServer(conf[b.start:b.end]))
		}
	}
	return out
}

// block is a { ... } block of an nginx.conf: conf[start:end] runs from
// the start of the line of its head (the words before '{') to its '}';
// conf[lead:start] are the comment lines right above it.
type block struct {
	head             string
	depth            int
	lead, start, end int
}

// blocks returns every block of conf, outer ones first. Braces in
// comments and quoted strings are ignored.
func blocks(conf string) []block {
	var out []block
	var open []int // indexes in out of the blocks not closed yet
	inQuote := byte(0)
	for i := 0; i < len(conf); i++ {
		c := conf[i]
		switch {
		case inQuote != 0:
			if c == '\\' {
				i++
			} else if c == inQuote {
				inQuote = 0
			}
		case c == '"' || c == '\'':
			inQuote = c
		case c == '#':
			for i < len(conf) && conf[i] != '\n' {
				i++
			}
		case c == '{':
			b := block{depth: len(open), lead: -1}
			var head []string
			pos := strings.LastIndexAny(conf[:i], ";{}") + 1
			for _, l := range strings.SplitAfter(conf[pos:i], "\n") {
				switch t := strings.TrimSpace(l); {
				case t == "":
					b.lead = -1
				case strings.HasPrefix(t, "#"):
					if b.lead < 0 {
						b.lead = pos
					}
				default:
					if len(head) == 0 {
						b.start = pos
					}
					head = append(head, strings.Fields(t)...)
				}
				pos += len(l)
			}
			b.start = strings.LastIndexByte(conf[:max(b.start, 1)], '\n') + 1
			if b.lead < 0 || b.lead > b.start {
				b.lead = b.start
			}
			b.head = strings.Join(head, " ")
			open = append(open, len(out))
			out = append(out, b)
		case c == '}':
			if n := len(open); n > 0 {
				out[open[n-1]].end = i + 1
				open = open[:n-1]
			}
		}
	}
	return out
}

var (
	serverNameLine = regexp.MustCompile(`(?m)^\s*server_name\s+([^;]*);`)
	defaultListen  = regexp.MustCompile(`(?m)^\s*listen\s[^;]*\bdefault_server\b`)
)

func parseServer(text string) ServerBlock {
	b := ServerBlock{Text: text, Default: defaultListen.MatchString(text)}
	if m := serverNameLine.FindStringSubmatch(text); m != nil {
		for _, n := range strings.Fields(m[1]) {
			b.Names = append(b.Names, strings.Trim(n, `"'`))
		}
	}
	return b
}

// ServersFor returns the server blocks nginx would pick for host: those
// naming it exactly, else those whose regular expression name matches it,
// else the default server.
func ServersFor(blocks []ServerBlock, host string) []ServerBlock {
	host = strings.ToLower(host)
	var exact, rx, def []ServerBlock
	for _, b := range blocks {
		if b.Default {
			def = append(def, b)
		}
		for _, n := range b.Names {
			if n == host {
				exact = append(exact, b)
				break
			}
			if p, ok := strings.CutPrefix(n, "~"); ok {
				if re, err := regexp.Compile(p); err == nil && re.MatchString(host) {
					rx = append(rx, b)
					break
				}
			}
		}
	}
	switch {
	case len(exact) > 0:
		return exact
	case len(rx) > 0:
		return rx[:1]
	}
	return def
}

// StreamContext returns the stream { ... } block of an nginx.conf (TCP
// and UDP services, the TLS passthrough front); "" when there is none.
func StreamContext(conf string) string {
	for _, b := range blocks(conf) {
		if b.depth == 0 && b.head == "stream" {
			return conf[b.lead:b.end]
		}
	}
	return ""
}

// StreamServerFor returns the server block of the stream context that
// listens on port (TCP, or UDP when udp is set), with the comment above
// it; "" when none does.
func StreamServerFor(conf string, port int, udp bool) string {
	var stream *block
	for _, b := range blocks(conf) {
		switch {
		case b.depth == 0 && b.head == "stream":
			stream = &b
		case stream != nil && b.depth == 1 && b.head == "server" && b.start > stream.start && b.end < stream.end:
			m := streamListen.FindStringSubmatch(conf[b.start:b.end])
			if m == nil {
				continue
			}
			args := strings.Fields(m[1])
			p := args[0][strings.LastIndexByte(args[0], ':')+1:]
			if p == strconv.Itoa(port) && slices.Contains(args[1:], "udp") == udp {
				return conf[b.lead:b.end]
			}
		}
	}
	return ""
}

// streamListen reads a stream server's listen directive's arguments.
var streamListen = regexp.MustCompile(`(?m)^\s*listen\s+([^;]+);`)

// PassthroughFor returns, when the stream context passes host's TLS
// connections through (a line of the map of $ssl_preread_server_name
// names it), that map and the servers of the passthrough front; "" when
// it does not.
func PassthroughFor(conf, host string) string {
	host = strings.ToLower(host)
	var out []string
	found := false
	for _, b := range blocks(conf) {
		if b.depth != 1 {
			continue
		}
		text := conf[b.lead:b.end]
		switch {
		case strings.HasPrefix(b.head, "map $ssl_preread_server_name "):
			for _, l := range strings.Split(text, "\n") {
				f := strings.Fields(l)
				if len(f) != 2 {
					continue
				}
				name := strings.Trim(f[0], `"`)
				if rx, ok := strings.CutPrefix(name, "~*"); ok {
					re, err := regexp.Compile("(?i)" + rx)
					found = found || (err == nil && re.MatchString(host))
				} else {
					found = found || name == host
				}
			}
			out = append(out, text)
		case strings.HasPrefix(b.head, "map $portico_passthrough "),
			b.head == "server" && strings.Contains(text, "ssl_preread on;"):
			out = append(out, text)
		}
	}
	if !found {
		return ""
	}
	return strings.Join(out, "\n")
}

// peersDirLine is where nginx.conf names the directory of the stream
// context's peer files.
var peersDirLine = regexp.MustCompile(`(?m)^\s*js_var\s+\$portico_peers_dir\s+([^;\s]+);`)

// PeersDir is the directory of the peer files an nginx.conf's stream
// context reads; "" when it has none.
func PeersDir(conf string) string {
	if m := peersDirLine.FindStringSubmatch(conf); m != nil {
		return m[1]
	}
	return ""
}
