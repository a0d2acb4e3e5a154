package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// enable-rewrite-log: "true" writes nginx's rewrite notices to the error
// log (notice, the ConfigMap's default error-log-level), as in
// ingress-nginx's e2e: the path's regular expression matching the URI,
// then the rewritten URI. A routed host's rewrite runs in the Lua router,
// which writes the same two notices; a route without the annotation
// writes none. On a routed host and a host with a server block.
func TestAnnotationsRewriteLog(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "rewritelog")
	a := newApp(t, ns, "a", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name+"-log", k.annotations(map[string]string{"rewrite-target": "/", "enable-rewrite-log": "true"}),
			hostRule("log."+k.host, prefixPath("/something", "a"))))
		createIngress(t, newIngress(ns, k.name+"-quiet", k.annotations(map[string]string{"rewrite-target": "/"}),
			hostRule("quiet."+k.host, prefixPath("/something", "a"))))
	}
	// logged are the error log's lines about host's requests with all of
	// parts.
	logged := func(host string, parts ...string) int {
		b, err := os.ReadFile(env.portico.logPath)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
	lines:
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.Contains(l, `host: "`+host+`"`) {
				continue
			}
			for _, p := range parts {
				if !strings.Contains(l, p) {
					continue lines
				}
			}
			n++
		}
		return n
	}
	var hosts []hostKind
	for _, k := range kinds {
		hosts = append(hosts, hostKind{k.name, "log." + k.host}, hostKind{k.name, "quiet." + k.host})
		for _, host := range []string{"log." + k.host, "quiet." + k.host} {
			r := expect(t, host+" served", "GET", host, "/something?x=1", nil, "", fromApp(a, 200))
			if r.echo.RequestURI != "/?x=1" {
				t.Errorf("%s: the backend got %s, want /?x=1", host, r.echo.RequestURI)
			}
		}
		host := "log." + k.host
		eventually(t, k.name+": the rewrite notices in the error log", func() error {
			if n := logged(host, "[notice]", `"(?i)^/something" matches "/something"`); n == 0 {
				return fmt.Errorf(`no notice "(?i)^/something" matches "/something"`)
			}
			if n := logged(host, "[notice]", `rewritten data: "/", args: "x=1"`); n == 0 {
				return fmt.Errorf(`no notice rewritten data: "/", args: "x=1"`)
			}
			return nil
		})
		if n := logged("quiet."+k.host, "rewritten data"); n != 0 {
			t.Errorf("%s: %d rewrite notices without enable-rewrite-log", "quiet."+k.host, n)
		}
	}
	checkKinds(t, hosts)
}
