package e2e

import (
	"testing"
)

// server-alias with a wildcard: "*.example.com" serves the names one label
// under example.com with the host's routes, as a wildcard Ingress host
// does; a name that is an Ingress host of its own stays its own (nginx
// picks an exact server_name before a wildcard), and a second Ingress
// claiming the same wildcard gets an AliasConflict. Both on a routed host
// (no reload) and on a host with a server block (a snippet).
func TestAnnotationsServerAliasWildcard(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "walias")
	a := newApp(t, ns, "a", 1, "")
	own := newApp(t, ns, "own", 1, "")
	createIngress(t, newIngress(ns, "own", nil, hostRule("own.walias.example.com", prefixPath("/", "own"))))
	servedBy(t, "own.walias.example.com", "/", own)
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "site", map[string]string{ann + "server-alias": "*.walias.example.com"},
		hostRule("walias-site.example.com", prefixPath("/", "a"))))
	expect(t, "a name under the wildcard alias serves the host's routes", "GET", "x.walias.example.com", "/p", nil, "", fromApp(a, 200))
	expect(t, "the host itself", "GET", "walias-site.example.com", "/", nil, "", fromApp(a, 200))
	expect(t, "two labels under the wildcard are not its", "GET", "x.y.walias.example.com", "/", nil, "", status(404))
	expect(t, "an Ingress host of its own under the wildcard stays its own", "GET", "own.walias.example.com", "/", nil, "", fromApp(own, 200))
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("a routed host with a wildcard alias reloaded nginx %d times; want 0", after-before)
	}
	routedInLua(t, "walias-site.example.com")
	// Created in the same second as "site" it is still the younger: the
	// tie is broken by name.
	createIngress(t, newIngress(ns, "younger", map[string]string{ann + "server-alias": "*.walias.example.com"},
		hostRule("walias-younger.example.com", prefixPath("/", "own"))))
	eventWith(t, ns, "younger", "AliasConflict", "*.walias.example.com already answers for walias-site.example.com")
	expect(t, "the older Ingress keeps the wildcard", "GET", "z.walias.example.com", "/", nil, "", fromApp(a, 200))

	// A host with a server block: the wildcard is one more server_name,
	// and a routed host under it still gets its own routes.
	createIngress(t, newIngress(ns, "static", map[string]string{ann + "server-alias": "*.wstatic.example.com",
		ann + "configuration-snippet": "add_header X-Static yes;"},
		hostRule("walias-static.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "under", nil, hostRule("own.wstatic.example.com", prefixPath("/", "own"))))
	r := expect(t, "a name under the server block's wildcard alias", "GET", "x.wstatic.example.com", "/", nil, "", fromApp(a, 200))
	if r.header.Get("X-Static") != "yes" {
		t.Errorf("wildcard alias of a server block answered without its snippet's header: %v", r.header)
	}
	expect(t, "two labels under the server block's wildcard are not its", "GET", "x.y.wstatic.example.com", "/", nil, "", status(404))
	expect(t, "an Ingress host under the server block's wildcard stays its own", "GET", "own.wstatic.example.com", "/", nil, "", fromApp(own, 200))
}
