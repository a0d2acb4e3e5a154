package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
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

// servingKinds are the two ways Portico serves a host, the Lua router and
// a server block, for tests that name their hosts themselves.
var servingKinds = []hostKind{{name: "routed"}, {name: "static"}}

// anns are the annotations kv (full keys and values, in turn), with the
// snippet of needsServerBlock for a static host.
func (k hostKind) anns(kv ...string) map[string]string {
	if k.name == "static" {
		return needsServerBlock(kv...)
	}
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
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

// loadedServer returns the server block of k's host as nginx loaded it
// (nginx.conf) for a static host, or as the routed-hosts file shows the
// Lua router's routes (with the directives of their router locations)
// for a routed one: from its server_name to the next server block.
func loadedServer(k hostKind) (string, error) {
	file, name := "routed-hosts.conf", "server_name "+k.host+";"
	if k.name == "static" {
		file, name = "nginx.conf", `server_name "`+k.host+`"`
	}
	data, err := os.ReadFile(filepath.Join(env.portico.configDir, file))
	if err != nil {
		return "", err
	}
	s := string(data)
	i := strings.Index(s, name)
	if i < 0 {
		return "", fmt.Errorf("%s has no server block of %s", file, k.host)
	}
	s = s[i:]
	if end := strings.Index(s, "server {"); end >= 0 {
		s = s[:end]
	}
	return s, nil
}

// loads waits until the server block of each of kinds, as loadedServer
// reads it, has every directive of want.
func loads(t *testing.T, kinds []hostKind, want ...string) {
	t.Helper()
	eventually(t, "the hosts' loaded configuration", func() error {
		for _, k := range kinds {
			block, err := loadedServer(k)
			if err != nil {
				return err
			}
			for _, d := range want {
				if !strings.Contains(block, d) {
					return fmt.Errorf("%s host %s: no %q in its server block:\n%s", k.name, k.host, d, block)
				}
			}
		}
		return nil
	})
}
