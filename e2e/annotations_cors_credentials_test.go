package e2e

import (
	"fmt"
	"testing"
)

// cors-allow-credentials as ingress-nginx has it: with enable-cors,
// preflights and answers carry Access-Control-Allow-Credentials: true by
// default, and none with "false". On a routed host and a host with a
// server block.
func TestAnnotationsCORSAllowCredentials(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "corscreds")
	a := newApp(t, ns, "a", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name+"-default", k.annotations(map[string]string{"enable-cors": "true"}),
			hostRule(k.host, prefixPath("/default", "a"))))
		createIngress(t, newIngress(ns, k.name+"-true", k.annotations(map[string]string{"enable-cors": "true", "cors-allow-credentials": "true"}),
			hostRule(k.host, prefixPath("/true", "a"))))
		createIngress(t, newIngress(ns, k.name+"-false", k.annotations(map[string]string{"enable-cors": "true", "cors-allow-credentials": "false"}),
			hostRule(k.host, prefixPath("/false", "a"))))
	}
	const origin = "https://app.example.org"
	preflight := map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"}
	for _, k := range kinds {
		for path, want := range map[string]string{"/default": "true", "/true": "true", "/false": ""} {
			credentials := func(r reply) error {
				if got := r.header.Get("Access-Control-Allow-Credentials"); got != want {
					return fmt.Errorf("Access-Control-Allow-Credentials %q, want %q", got, want)
				}
				if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" && got != origin {
					return fmt.Errorf("Access-Control-Allow-Origin %q: CORS not applied", got)
				}
				return nil
			}
			expect(t, k.name+": preflight "+path, "OPTIONS", k.host, path, preflight, "", func(r reply) error {
				if r.code != 204 {
					return fmt.Errorf("want 204")
				}
				return credentials(r)
			})
			expect(t, k.name+": GET "+path, "GET", k.host, path, map[string]string{"Origin": origin}, "", func(r reply) error {
				if err := fromApp(a, 200)(r); err != nil {
					return err
				}
				return credentials(r)
			})
		}
	}
	checkKinds(t, kinds)
}
