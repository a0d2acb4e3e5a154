package nginxconf

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSnippet(t *testing.T) {
	tests := []struct {
		text string
		want string // directives as name/args, or the error's words
	}{
		{`add_header X-A "a}b" always;`, `add_header[X-A a}b always]`},
		{`default_type a}; `, `default_type[a}]`},
		{`set $a ${b};`, `set[$a ${b}]`},
		{`return 200 'it''s';`, `unexpected "'"`},
		{`default_type "a"b;`, `unexpected "b"`},
		{`if ($a = "b") { return 204; }`, `if[($a = b )]{return[204]}`},
		{`a \; b;`, `a[\; b]`},
		{`a "x\"y\n\q";`, "a[x\"y\n\\q]"},
		{"a b; # c }\n", `a[b]`},
		{"a b; # c }", `a[b]`},
		{`a#b;`, `a#b[]`},
		{`location /x { return 204; }`, `location[/x]{return[204]}`},
		{`content_by_lua_block { local s = "}" -- }` + "\n }", `content_by_lua_block[ local s = "}" -- }` + "\n ]{}"},
		{`content_by_lua_block { x = [==[ } ]] ]==] }`, `content_by_lua_block[ x = [==[ } ]] ]==] ]{}`},
		// The payload: nginx reads "a${;" as one word (a '{'
		// after '$' is part of it) and "b}" as another, so the lone '}'
		// closes the location.
		{`default_type a${; } location /x { return 200 "x"; } location /y { default_type b};`, `would close the block`},
		{`}`, `would close the block`},
		{`location /x {`, `left open`},
		{`return 200 "x`, `ends inside a directive`},
		{`return 200`, `ends inside a directive`},
		{`return 200 x\`, `ends inside a directive`},
		{"content_by_lua_block { x = \"a }\n }", `would close the block`},
		{`content_by_lua_block { x = [[ }`, `missing the closing long bracket`},
		{`; a;`, `unexpected ";"`},
		{`a { b } }`, `unexpected "}"`},
		{`content_by_lua_block {` + strings.Repeat(" ", 2001) + `}`, `longer than 2000 bytes`},
		{`a ` + strings.Repeat("b", 4096) + `;`, `too long`},
	}
	for _, tc := range tests {
		ds, err := ParseSnippet(tc.text)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = show(ds)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("ParseSnippet(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func show(ds []*Directive) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Name + "[" + strings.Join(d.Args, " ") + "]")
		if d.HasBlock {
			b.WriteString("{" + show(d.Block) + "}")
		}
	}
	return b.String()
}

func TestParseLines(t *testing.T) {
	ds, err := Parse([]byte("events {}\n\nhttp {\n  server {\n    listen 80;\n    # }\n  }\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	listen := ds[1].Block[0].Block[0]
	if listen.Name != "listen" || listen.Line != 5 || ds[1].Line != 3 {
		t.Errorf("got %s at line %d, http at %d", listen.Name, listen.Line, ds[1].Line)
	}
	_, err = Parse([]byte("http {\n  a;\n}\n}\n"))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 4 || se.Msg != `unexpected "}"` {
		t.Errorf("stray brace: %v", err)
	}
	if _, err := Parse([]byte("http {\n")); err == nil || !strings.Contains(err.Error(), "expecting \"}\"") {
		t.Errorf("open block: %v", err)
	}
}
