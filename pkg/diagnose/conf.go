package diagnose

import (
	"regexp"
	"strings"
)

// ServerBlock is one server { ... } block of an nginx.conf.
type ServerBlock struct {
	Names   []string // server_name arguments, unquoted
	Default bool     // listens with default_server
	Text    string
}

// ServerBlocks returns the top-level server blocks of an nginx.conf (those
// directly inside http). Braces in comments and quoted strings are ignored.
func ServerBlocks(conf string) []ServerBlock {
	var out []ServerBlock
	depth, start := 0, -1
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
			if depth == 1 && isServerOpen(conf[:i]) {
				start = strings.LastIndex(conf[:i], "server")
				start = strings.LastIndexByte(conf[:start], '\n') + 1
			}
			depth++
		case c == '}':
			depth--
			if depth == 1 && start >= 0 {
				out = append(out, parseServer(conf[start:i+1]))
				start = -1
			}
		}
	}
	return out
}

func isServerOpen(before string) bool {
	f := strings.Fields(before[strings.LastIndexAny(before, ";{}")+1:])
	return len(f) == 1 && f[0] == "server"
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
