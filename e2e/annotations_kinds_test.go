package e2e

import (
	"maps"
	"strings"
	"testing"
)

// hostKind is one of the two ways a host is carried: routed by the Lua
// router, or a server block of nginx.conf (a snippet keeps it one).
// Annotation tests assert the same answers for both.
type hostKind struct {
	// name is "routed" or "static"; host the test's host of this kind.
	name, host string
}

// hostKinds are a routed and a static host under domain (such as
// "form.<ns>.example.com": routed.form..., static.form...). The static
// one needs snippets allowed (allowSnippets).
func hostKinds(domain string) []hostKind {
	return []hostKind{{"routed", "routed." + domain}, {"static", "static." + domain}}
}

// annotations are ann-prefixed kv (names without the prefix), with the
// snippet of needsServerBlock for a static host.
func (k hostKind) annotations(kv map[string]string) map[string]string {
	m := map[string]string{}
	for n, v := range kv {
		m[ann+n] = v
	}
	if k.name == "static" {
		maps.Copy(m, needsServerBlock())
	}
	return m
}

// checkKinds fails the test when a routed host of kinds has a server
// block or a static one none.
func checkKinds(t *testing.T, kinds []hostKind) {
	t.Helper()
	conf := runningConf(t)
	for _, k := range kinds {
		if has := strings.Contains(conf, `server_name "`+k.host+`"`); has != (k.name == "static") {
			t.Errorf("%s host %s: server block in nginx.conf = %v", k.name, k.host, has)
		}
	}
}
