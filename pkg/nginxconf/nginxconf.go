package nginxconf

import (
	"fmt"
	"strings"
)

// Directive is one directive of a configuration.
type Directive struct {
	Name string
	// Args are the arguments as nginx unescapes them; a *_by_lua_block
	// directive's Lua code is its last one.
	Args []string
	// Line is where the directive's name is (1-based).
	Line int
	// HasBlock is set for a block directive; Block holds what is in it.
	HasBlock bool
	Block    []*Directive
	// end is the line of the ';' or '{' (of a Lua block, the '}') that
	// ends the directive: where nginx reports an error about it.
	end int
}

// SyntaxError is text nginx would refuse, or (for a snippet) text that
// would not stay where it is inserted; Line counts from 1.
type SyntaxError struct {
	Line int
	Msg  string
	// leaves: nginx would take the text, but not where it is inserted.
	leaves bool
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads a whole configuration file as nginx does.
func Parse(src []byte) ([]*Directive, error) {
	p := &parser{sc: scanner{s: string(src), line: 1}}
	return p.list(0)
}

// luaBlocks are lua-nginx-module's block directives (0.10.23); a snippet
// naming another *_by_lua_block is refused, as a newer module might read
// its code as Lua.
var luaBlocks = map[string]bool{
	"init_by_lua_block": true, "init_worker_by_lua_block": true, "exit_worker_by_lua_block": true,
	"set_by_lua_block": true, "server_rewrite_by_lua_block": true, "rewrite_by_lua_block": true,
	"access_by_lua_block": true, "content_by_lua_block": true, "log_by_lua_block": true,
	"header_filter_by_lua_block": true, "body_filter_by_lua_block": true, "balancer_by_lua_block": true,
	"ssl_certificate_by_lua_block": true, "ssl_session_fetch_by_lua_block": true,
	"ssl_session_store_by_lua_block": true, "ssl_client_hello_by_lua_block": true,
}

// maxSnippetLua bounds a *_by_lua_block in a snippet: nginx reads a
// config file 4,096 bytes at a time and lets lua-nginx-module's Lua reader
// look no further ahead than half of that, so a longer Lua block may be
// cut where this reader, which sees it whole, does not cut it.
const maxSnippetLua = 2000

// ParseSnippet reads text that is printed, followed by a newline, among
// the directives of a block (a server or location), and returns its
// directives. It refuses text nginx would refuse on its own and text that
// would not stay in that block: a '}' that would close it, a block, quote
// or Lua block left open, a directive without its ';'.
func ParseSnippet(text string) ([]*Directive, error) {
	p := &parser{sc: scanner{s: text, line: 1, more: true}, snippet: true}
	return p.list(0)
}

type parser struct {
	sc      scanner
	snippet bool
}

// list reads directives up to the '}' that closes the block at depth, or
// the end of the text at depth 0.
func (p *parser) list(depth int) ([]*Directive, error) {
	var ds []*Directive
	for {
		words, line, end, err := p.sc.read()
		if err != nil {
			return ds, err
		}
		switch end {
		case endFile:
			if depth > 0 {
				if p.snippet {
					return ds, p.sc.leaving("a block is left open")
				}
				return ds, p.sc.errorf(`unexpected end of file, expecting "}"`)
			}
			return ds, nil
		case endBlock:
			if depth == 0 {
				if p.snippet {
					return ds, p.sc.leaving(`"}" would close the block the text is in`)
				}
				return ds, p.sc.errorf(`unexpected "}"`)
			}
			return ds, nil
		case endDirective:
			ds = append(ds, &Directive{Name: words[0], Args: words[1:], Line: line, end: p.sc.line})
		case startBlock:
			d := &Directive{Name: words[0], Args: words[1:], Line: line, HasBlock: true, end: p.sc.line}
			if strings.HasSuffix(d.Name, "_by_lua_block") {
				if p.snippet && !luaBlocks[d.Name] {
					return ds, &SyntaxError{Line: line, Msg: fmt.Sprintf("%s is not a Lua block directive this reader knows", d.Name)}
				}
				from := p.sc.i
				code, err := p.sc.lua()
				if err != nil {
					return ds, err
				}
				if p.snippet && p.sc.i-from > maxSnippetLua {
					return ds, &SyntaxError{Line: line, Msg: fmt.Sprintf("%s is longer than %d bytes", d.Name, maxSnippetLua)}
				}
				d.Args, d.end = append(d.Args, code), p.sc.line
			} else if d.Block, err = p.list(depth + 1); err != nil {
				return ds, err
			}
			ds = append(ds, d)
		}
	}
}

// What ends the words read: the end of the text, ';', '{' or a '}'.
const (
	endFile = iota
	endDirective
	startBlock
	endBlock
)

// confBuffer is NGX_CONF_BUFFER: nginx refuses a word or comment that
// fills it.
const confBuffer = 4096

type scanner struct {
	s    string
	i    int
	line int
	// more: text follows s (a snippet), so a word at its end is cut.
	more bool
}

func (sc *scanner) errorf(format string, args ...any) error {
	return &SyntaxError{Line: sc.line, Msg: fmt.Sprintf(format, args...)}
}

// leaving is an error of text that nginx would take, but not where it is
// inserted.
func (sc *scanner) leaving(msg string) error {
	return &SyntaxError{Line: sc.line, Msg: msg, leaves: true}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// read reads the words of one directive, as ngx_conf_read_token does, up
// to the ';' or '{' that ends them, or a '}' before any word, or the end
// of the text; line is the line of the first word.
func (sc *scanner) read() (words []string, line, end int, err error) {
	var (
		lastSpace = true
		needSpace, comment, quoted, variable,
		dquoted, squoted bool
		start = sc.i
	)
	for {
		if sc.i >= len(sc.s) {
			if len(words) > 0 || !lastSpace {
				if sc.more {
					return nil, line, 0, sc.leaving("the text ends inside a directive (a ';', quote or escape is missing)")
				}
				return nil, line, 0, sc.errorf(`unexpected end of file, expecting ";" or "}"`)
			}
			return words, line, endFile, nil
		}
		if (comment || !lastSpace) && sc.i-start >= confBuffer && (sc.more || sc.i < len(sc.s)) {
			return nil, line, 0, sc.errorf("too long parameter or comment (nginx reads at most %d bytes of one)", confBuffer-1)
		}
		ch := sc.s[sc.i]
		sc.i++
		if ch == '\n' {
			sc.line++
			comment = false
		}
		if comment {
			continue
		}
		if quoted {
			quoted = false
			continue
		}
		if needSpace {
			switch {
			case isSpace(ch):
				lastSpace, needSpace = true, false
				continue
			case ch == ';':
				return words, line, endDirective, nil
			case ch == '{':
				return words, line, startBlock, nil
			case ch == ')':
				lastSpace, needSpace = true, false
			default:
				return nil, line, 0, sc.errorf(`unexpected "%c"`, ch)
			}
		}
		if lastSpace {
			start = sc.i - 1
			if isSpace(ch) {
				continue
			}
			if len(words) == 0 {
				line = sc.line
			}
			switch ch {
			case ';', '{':
				if len(words) == 0 {
					return nil, line, 0, sc.errorf(`unexpected "%c"`, ch)
				}
				if ch == '{' {
					return words, line, startBlock, nil
				}
				return words, line, endDirective, nil
			case '}':
				if len(words) != 0 {
					return nil, line, 0, sc.errorf(`unexpected "}"`)
				}
				return nil, line, endBlock, nil
			case '#':
				comment = true
				continue
			case '\\':
				quoted, lastSpace = true, false
				continue
			case '"':
				start++
				dquoted, lastSpace = true, false
				continue
			case '\'':
				start++
				squoted, lastSpace = true, false
				continue
			case '$':
				variable, lastSpace = true, false
				continue
			default:
				lastSpace = false
				continue
			}
		}
		if ch == '{' && variable {
			continue
		}
		variable = false
		switch ch {
		case '\\':
			quoted = true
			continue
		case '$':
			variable = true
			continue
		}
		found := false
		switch {
		case dquoted:
			if ch == '"' {
				dquoted, needSpace, found = false, true, true
			}
		case squoted:
			if ch == '\'' {
				squoted, needSpace, found = false, true, true
			}
		case isSpace(ch) || ch == ';' || ch == '{':
			lastSpace, found = true, true
		}
		if !found {
			continue
		}
		words = append(words, unescape(sc.s[start:sc.i-1]))
		switch ch {
		case ';':
			return words, line, endDirective, nil
		case '{':
			return words, line, startBlock, nil
		}
	}
}

// unescape turns \" \' \\ \t \r \n into what they stand for and keeps
// any other backslash, as nginx does with a word.
func unescape(w string) string {
	if strings.IndexByte(w, '\\') < 0 {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '\\' && i+1 < len(w) {
			switch w[i+1] {
			case '"', '\'', '\\':
				i++
				c = w[i]
			case 't':
				i++
				c = '\t'
			case 'r':
				i++
				c = '\r'
			case 'n':
				i++
				c = '\n'
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// lua reads the code of a *_by_lua_block whose '{' was just read, up to
// its closing '}', as lua-nginx-module's reader does: at each place the
// first of these that matches there wins, else the next byte is taken:
// '{' and '}' (counted); a long comment --[=*[ and a long string [=*[ up
// to the first matching ]=*]; a line comment -- to the end of the line; a
// "..." or '...' string on one line (a backslash takes the next byte but
// a newline) — a quote whose string does not close is taken as a byte.
func (sc *scanner) lua() (string, error) {
	startLine, from := sc.line, sc.i
	level := 1
	s := sc.s
	for sc.i < len(s) {
		c := s[sc.i]
		switch {
		case c == '{':
			level++
		case c == '}':
			level--
			if level == 0 {
				code := s[from:sc.i]
				sc.i++
				return code, nil
			}
		case c == '-' && strings.HasPrefix(s[sc.i:], "--"):
			if n := longBracket(s[sc.i+2:]); n > 0 {
				if err := sc.skipLong(sc.i+2, n); err != nil {
					return "", err
				}
				continue
			}
			for sc.i < len(s) && s[sc.i] != '\n' {
				sc.i++
			}
			continue
		case c == '[':
			if n := longBracket(s[sc.i:]); n > 0 {
				if err := sc.skipLong(sc.i, n); err != nil {
					return "", err
				}
				continue
			}
		case c == '"' || c == '\'':
			if end := luaString(s, sc.i); end > 0 {
				sc.i = end
				continue
			}
		case c == '\n':
			sc.line++
		}
		sc.i++
	}
	return "", &SyntaxError{Line: startLine, Msg: "unexpected end of file, expecting terminating characters for lua code block"}
}

// longBracket returns the length of the opening long bracket [=*[ at the
// start of s, or 0.
func longBracket(s string) int {
	if len(s) == 0 || s[0] != '[' {
		return 0
	}
	n := 1
	for n < len(s) && s[n] == '=' {
		n++
	}
	if n < len(s) && s[n] == '[' {
		return n + 1
	}
	return 0
}

// skipLong moves past the long bracket of n bytes at open and what it
// holds, up to the first closing bracket of its level.
func (sc *scanner) skipLong(open, n int) error {
	closer := "]" + strings.Repeat("=", n-2) + "]"
	end := strings.Index(sc.s[open+n:], closer)
	if end < 0 {
		return sc.errorf("Lua code block missing the closing long bracket %q", closer)
	}
	stop := open + n + end + len(closer)
	sc.line += strings.Count(sc.s[sc.i:stop], "\n")
	sc.i = stop
	return nil
}

// luaString returns the end of the one-line string quoted at s[i], or 0
// when it does not close on its line.
func luaString(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case q:
			return j + 1
		case '\n':
			return 0
		case '\\':
			if j+1 >= len(s) || s[j+1] == '\n' {
				return 0
			}
			j++
		}
	}
	return 0
}
