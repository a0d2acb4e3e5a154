package e2e

import (
	"fmt"
	"testing"
)

// temporal-redirect-code and permanent-redirect-code as ingress-nginx's
// redirect parser reads them: 302 (301) by default, the code when it is
// one nginx redirects with, 302 (301) for a number outside 300–307
// (300–308), with an AnnotationValueIgnored Warning, and a value that is
// no number refuses the Ingress (its path answers 503). temporal-redirect
// wins over permanent-redirect. On a routed host and a host with a server
// block.
func TestAnnotationsRedirectCodes(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "tempredir")
	newApp(t, ns, "a", 1, "")
	const target, moved = "https://maint.example.com/soon", "https://moved.example.com/"
	kinds := hostKinds(ns + ".example.com")
	cases := []struct {
		name string
		kv   map[string]string
		want int // 0: refused
		to   string
	}{
		{"default", map[string]string{"temporal-redirect": target}, 302, target},
		{"307", map[string]string{"temporal-redirect": target, "temporal-redirect-code": "307"}, 307, target},
		{"308", map[string]string{"temporal-redirect": target, "temporal-redirect-code": "308"}, 302, target},
		{"200", map[string]string{"temporal-redirect": target, "temporal-redirect-code": "200"}, 302, target},
		{"both", map[string]string{"temporal-redirect": target, "permanent-redirect": "https://perm.example.com/"}, 302, target},
		{"perm200", map[string]string{"permanent-redirect": moved, "permanent-redirect-code": "200"}, 301, moved},
		{"perm307", map[string]string{"permanent-redirect": moved, "permanent-redirect-code": "307"}, 307, moved},
		{"nan", map[string]string{"temporal-redirect": target, "temporal-redirect-code": "soon"}, 0, target},
	}
	for _, k := range kinds {
		for _, c := range cases {
			createIngress(t, newIngress(ns, k.name+"-"+c.name, k.annotations(c.kv), hostRule(k.host, prefixPath("/"+c.name, "a"))))
		}
	}
	for _, k := range kinds {
		for _, c := range cases {
			what := fmt.Sprintf("%s: %v", k.name, c.kv)
			if c.want == 0 {
				expect(t, what+" refused", "GET", k.host, "/"+c.name, nil, "", status(503))
				continue
			}
			expect(t, what, "GET", k.host, "/"+c.name, nil, "", func(r reply) error {
				if r.code != c.want || r.header.Get("Location") != c.to {
					return fmt.Errorf("want %d to %s, got Location %q", c.want, c.to, r.header.Get("Location"))
				}
				return nil
			})
		}
		for _, name := range []string{"308", "200"} {
			eventWith(t, ns, k.name+"-"+name, "AnnotationValueIgnored", "temporal-redirect-code")
		}
		eventWith(t, ns, k.name+"-perm200", "AnnotationValueIgnored", "permanent-redirect-code")
		eventWith(t, ns, k.name+"-nan", "InvalidAnnotation", "temporal-redirect-code")
	}
	checkKinds(t, kinds)
}
