package nginxconf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The candidate config: the snippet sits in a location between two
// msie_padding directives. nginx refuses a second msie_padding in the
// same block ("is duplicate") and takes it in another, so whether nginx
// -t names the second one tells whether the snippet left its block.
const (
	candidateHead = `load_module %[1]s/ndk_http_module.so;
load_module %[1]s/ngx_http_lua_module.so;
pid %[2]s/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    server {
        listen 127.0.0.1:1;
        location /confined {
            msie_padding on;
`
	candidateTail = `
            msie_padding off;
        }
    }
}
`
	modulesDir = "/usr/lib/nginx/modules"
)

// snippetFirstLine is the line of the candidate the snippet starts on.
var snippetFirstLine = strings.Count(candidateHead, "\n") + 1

// nginxVerdict is what nginx -t says about a snippet in the candidate.
type nginxVerdict struct {
	kind verdictKind
	line int    // of the snippet (1-based) nginx names, 0 if none
	name string // the directive nginx names
	msg  string
}

type verdictKind int

const (
	// confined: nginx read the whole snippet and the second sentinel is
	// in the first one's block.
	confined verdictKind = iota
	// escaped: nginx took the config, so the sentinels are in two blocks.
	escaped
	// tokens: nginx refused the text's syntax (a token, a brace, a quote,
	// a Lua block).
	tokens
	// directive: nginx refused a directive by name (unknown, misplaced,
	// wrong arguments).
	directive
	// other: nginx refused it for a reason that says nothing here.
	other
)

var (
	errLine     = regexp.MustCompile(`\[emerg\] \d+#\d+: (.*) in \S+:(\d+)\n`)
	errLineAny  = regexp.MustCompile(`\[(?:emerg|error)\] \d+#\d+: (.*) in \S+:(\d+)\n`)
	dupSentinel = regexp.MustCompile(`^"msie_padding" directive is duplicate$`)
	tokenErr    = regexp.MustCompile(`^(unexpected |too long |Lua code block missing the closing long bracket)`)
	namedErr    = regexp.MustCompile(`^(?:unknown directive "(.*)"|"(.*)" directive is not allowed here|invalid number of arguments in "(.*)" directive)$`)
)

// askNginx runs nginx -t on the candidate holding snippet.
func askNginx(t testing.TB, nginx, dir, snippet string) nginxVerdict {
	t.Helper()
	conf := filepath.Join(dir, "nginx.conf")
	text := fmt.Sprintf(candidateHead, modulesDir, dir) + snippet + candidateTail
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, nginx, "-t", "-q", "-p", dir, "-e", "stderr", "-c", conf).CombinedOutput()
	if err == nil {
		return nginxVerdict{kind: escaped}
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	m := errLineAny.FindStringSubmatch(string(out))
	if m == nil {
		return nginxVerdict{kind: other, msg: string(out)}
	}
	msg := m[1]
	n, _ := strconv.Atoi(m[2])
	v := nginxVerdict{line: n - snippetFirstLine + 1, msg: msg}
	if v.line < 1 || v.line > strings.Count(snippet, "\n")+1 {
		v.line = 0
	}
	switch {
	case dupSentinel.MatchString(msg) && n == snippetFirstLine+strings.Count(snippet, "\n")+1:
		v.kind = confined
	case errLine.MatchString(string(out)) && tokenErr.MatchString(msg):
		v.kind = tokens
	case namedErr.MatchString(msg):
		v.kind = directive
		for _, s := range namedErr.FindStringSubmatch(msg)[1:] {
			if s != "" {
				v.name = s
			}
		}
	default:
		v.kind = other
	}
	return v
}

// findDirective reports whether ds holds, at any depth, a directive name
// that ends on line.
func findDirective(ds []*Directive, name string, line int) bool {
	for _, d := range ds {
		n, _, _ := strings.Cut(d.Name, "\x00") // nginx prints the name as a C string
		if d.end == line && n == name || findDirective(d.Block, name, line) {
			return true
		}
	}
	return false
}

// checkAgainstNginx fails t when ParseSnippet and nginx disagree about
// snippet: on whether it stays in its block, on whether its syntax holds,
// and on which directive stands on which line.
func checkAgainstNginx(t *testing.T, nginx, dir, snippet string) {
	t.Helper()
	ds, err := ParseSnippet(snippet)
	v := askNginx(t, nginx, dir, snippet)
	var se *SyntaxError
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("ParseSnippet(%q): %v", snippet, err)
	}
	switch v.kind {
	case escaped:
		if err == nil {
			t.Fatalf("nginx takes %q with the text outside its location; ParseSnippet accepts it", snippet)
		}
	case confined:
		if err != nil && !strings.Contains(err.Error(), "longer than") && !strings.Contains(err.Error(), "too long") {
			t.Errorf("nginx reads %q inside its location; ParseSnippet refuses it: %v", snippet, err)
		}
	case tokens:
		if err == nil {
			t.Errorf("nginx refuses the syntax of %q (%s, snippet line %d); ParseSnippet accepts it", snippet, v.msg, v.line)
		} else if v.line > 0 && !se.leaves && se.Line != v.line && !strings.Contains(v.msg, "too long") {
			t.Errorf("%q: nginx: %s at snippet line %d; ParseSnippet: %v", snippet, v.msg, v.line, err)
		}
	case directive:
		if err == nil && v.line > 0 && !findDirective(ds, v.name, v.line) {
			t.Errorf("%q: nginx refuses a directive %q on snippet line %d that ParseSnippet does not see there: %s", snippet, v.name, v.line, show(ds))
		}
	}
}

// nginxForFuzz returns the nginx binary, or skips when nginx or its Lua
// module is not installed.
func nginxForFuzz(tb testing.TB) string {
	tb.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		tb.Skip("nginx not installed (make deps installs it)")
	}
	if _, err := os.Stat(filepath.Join(modulesDir, "ngx_http_lua_module.so")); err != nil {
		tb.Skip("nginx's Lua module not installed (make deps installs it)")
	}
	return nginx
}

// FuzzSnippetAgainstNginx checks ParseSnippet against the nginx binary:
// for each text, nginx -t on a config that holds it in a location says
// whether the text stays in that location, and ParseSnippet must accept
// exactly those texts nginx keeps there (it may refuse more: over-long
// Lua blocks), refuse every text whose syntax nginx refuses (naming the
// same line), and see the directive nginx names end on the line nginx names.
// The seeds (testdata/fuzz) are run by go test; go test -fuzz looks for
// more.
func FuzzSnippetAgainstNginx(f *testing.F) {
	nginx := nginxForFuzz(f)
	f.Fuzz(func(t *testing.T, snippet string) {
		if len(snippet) > 16<<10 {
			return
		}
		checkAgainstNginx(t, nginx, t.TempDir(), snippet)
	})
}
