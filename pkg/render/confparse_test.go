package render

import (
	"fmt"
	"net/netip"
	"strings"
)

// A small nginx.conf tokenizer and parser for tests.
// github.com/nginxinc/nginx-go-crossplane is not available from the module
// proxy here, so this follows nginx's own ngx_conf_read_token rules:
// whitespace separates words; ';' ends a directive, '{' opens a block and
// '}' closes it; '#' starts a comment at a word start; "..." and '...'
// are one word with backslash escapes; "${" opens a variable name that
// runs to '}'. A *_by_lua_block body is Lua, kept as one opaque word.

type directive struct {
	name  string
	args  []string
	block []*directive // nil without a block
	isBlk bool
}

type confParser struct {
	s   string
	i   int
	err error
}

func parseConf(b []byte) ([]*directive, error) {
	p := &confParser{s: string(b)}
	ds, closed := p.list()
	if p.err == nil && closed {
		p.err = fmt.Errorf("unexpected } at offset %d", p.i)
	}
	return ds, p.err
}

// list parses directives up to a '}' (closed true) or the end.
func (p *confParser) list() (ds []*directive, closed bool) {
	for p.err == nil {
		words, end := p.words()
		switch end {
		case 0: // EOF
			if len(words) > 0 {
				p.err = fmt.Errorf("directive %q without ; at end of file", words[0])
			}
			return ds, false
		case '}':
			if len(words) > 0 {
				p.err = fmt.Errorf("directive %q without ; before }", words[0])
			}
			return ds, true
		case ';':
			if len(words) == 0 {
				p.err = fmt.Errorf("empty directive at offset %d", p.i)
				return ds, false
			}
			ds = append(ds, &directive{name: words[0], args: words[1:]})
		case '{':
			if len(words) == 0 {
				p.err = fmt.Errorf("block without a name at offset %d", p.i)
				return ds, false
			}
			d := &directive{name: words[0], args: words[1:], isBlk: true}
			if strings.HasSuffix(d.name, "_by_lua_block") {
				d.args = append(d.args, p.lua())
			} else {
				var c bool
				d.block, c = p.list()
				if p.err == nil && !c {
					p.err = fmt.Errorf("block %q not closed", d.name)
				}
			}
			ds = append(ds, d)
		}
	}
	return ds, false
}

// words reads words up to ';', '{', '}' or EOF (returned as 0).
func (p *confParser) words() ([]string, byte) {
	var ws []string
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == ';' || c == '{' || c == '}':
			p.i++
			return ws, c
		case c == '"' || c == '\'':
			p.i++
			var w strings.Builder
			for p.i < len(p.s) && p.s[p.i] != c {
				if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
					p.i++
				}
				w.WriteByte(p.s[p.i])
				p.i++
			}
			if p.i >= len(p.s) {
				p.err = fmt.Errorf("unterminated quote")
				return ws, 0
			}
			p.i++
			ws = append(ws, w.String())
		default:
			start := p.i
			for p.i < len(p.s) {
				c := p.s[p.i]
				if c == '\\' && p.i+1 < len(p.s) {
					p.i += 2
					continue
				}
				if c == '$' && p.i+1 < len(p.s) && p.s[p.i+1] == '{' {
					end := strings.IndexByte(p.s[p.i:], '}')
					if end < 0 {
						p.err = fmt.Errorf("unterminated ${")
						return ws, 0
					}
					p.i += end + 1
					continue
				}
				if strings.IndexByte(" \t\r\n;{}\"'", c) >= 0 {
					break
				}
				p.i++
			}
			ws = append(ws, p.s[start:p.i])
		}
	}
	return ws, 0
}

// lua skips a Lua block body up to its closing brace, honouring Lua
// strings and comments, and returns it.
func (p *confParser) lua() string {
	start, depth := p.i, 1
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"' || c == '\'':
			p.i++
			for p.i < len(p.s) && p.s[p.i] != c {
				if p.s[p.i] == '\\' {
					p.i++
				}
				p.i++
			}
		case c == '-' && strings.HasPrefix(p.s[p.i:], "--"):
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				body := p.s[start:p.i]
				p.i++
				return body
			}
		}
		p.i++
	}
	p.err = fmt.Errorf("lua block not closed")
	return ""
}

// variadic directives take a list whose length follows the value.
var variadic = map[string]bool{"error_page": true, "proxy_next_upstream": true, "grpc_next_upstream": true}

// repeated directives come once per list item (auth-response-headers);
// the skeleton keeps one of each run.
// Source ranges and allowlists give one allow/deny or geo entry per
// address, whose name is the address itself.
var repeated = map[string]bool{"auth_request_set": true, "proxy_set_header": true, "allow": true, "deny": true, cidrEntry: true}

// cidrEntry names a directive whose name is an address or prefix (a geo
// entry) in a skeleton.
const cidrEntry = "<address>"

// shapeName is d's name in a skeleton.
func shapeName(d *directive) string {
	if _, err := netip.ParsePrefix(d.name); err == nil {
		return cidrEntry
	}
	if _, err := netip.ParseAddr(d.name); err == nil {
		return cidrEntry
	}
	return d.name
}

// skeleton is the directive structure of a config: one line per directive
// with its depth, name, argument count (except variadic ones) and block.
func skeleton(ds []*directive) string {
	var b strings.Builder
	var walk func([]*directive, int)
	walk = func(ds []*directive, depth int) {
		for i, d := range ds {
			name := shapeName(d)
			if repeated[name] && i > 0 && shapeName(ds[i-1]) == name && len(ds[i-1].args) == len(d.args) {
				continue
			}
			n := fmt.Sprint(len(d.args))
			if variadic[d.name] {
				n = "*"
			}
			fmt.Fprintf(&b, "%s%s/%s", strings.Repeat(" ", depth), name, n)
			if d.isBlk {
				b.WriteString(" {")
			}
			b.WriteByte('\n')
			walk(d.block, depth+1)
		}
	}
	walk(ds, 0)
	return b.String()
}
