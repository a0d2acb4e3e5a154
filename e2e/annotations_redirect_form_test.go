package e2e

import (
	"fmt"
	"testing"
)

// How redirects are written, as ingress-nginx writes them, on a routed
// host and one with a server block: the redirect to HTTPS names no port
// and drops one trailing '/' of the URI, unless use-port-in-redirects
// (the HTTPS port) and preserve-trailing-slash; nginx completes a
// permanent-redirect to a path with the request's scheme and Host, no
// port unless use-port-in-redirects (the port the request came to), and
// leaves it relative with relative-redirects (the annotation, or the
// ConfigMap key for every Ingress).
func TestAnnotationsRedirectForm(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "form")
	newApp(t, ns, "a", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		for name, kv := range map[string]map[string]string{
			"https":      {"force-ssl-redirect": "true"},
			"https-keep": {"force-ssl-redirect": "true", "preserve-trailing-slash": "true", "use-port-in-redirects": "true"},
			"moved":      {"permanent-redirect": "/new?a=1"},
			"moved-port": {"permanent-redirect": "/new", "use-port-in-redirects": "true"},
			"moved-rel":  {"permanent-redirect": "/new", "relative-redirects": "true", "use-port-in-redirects": "true"},
		} {
			createIngress(t, newIngress(ns, k.name+"-"+name, k.annotations(kv), hostRule(k.host, prefixPath("/"+name, "a"))))
		}
	}
	redirect := func(code int, want string) func(reply) error {
		return func(r reply) error {
			if r.code != code || r.header.Get("Location") != want {
				return fmt.Errorf("want %d to %s, got Location %q", code, want, r.header.Get("Location"))
			}
			return nil
		}
	}
	for _, k := range kinds {
		h := k.host
		expect(t, k.name+": to HTTPS, trailing / dropped", "GET", h, "/https/x/?q=1/", nil, "", redirect(308, "https://"+h+"/https/x/?q=1"))
		expect(t, k.name+": to HTTPS, trailing / of the path dropped", "GET", h, "/https/x/", nil, "", redirect(308, "https://"+h+"/https/x"))
		expect(t, k.name+": to HTTPS with port and slash", "GET", h, "/https-keep/x/", nil, "",
			redirect(308, fmt.Sprintf("https://%s:%d/https-keep/x/", h, env.portico.httpsPort)))
		expect(t, k.name+": a path made absolute without a port", "GET", h, "/moved", nil, "", redirect(301, "http://"+h+"/new?a=1"))
		expect(t, k.name+": a path made absolute with the port", "GET", h, "/moved-port/x", nil, "",
			redirect(301, fmt.Sprintf("http://%s:%d/new", h, env.portico.httpPort)))
		expect(t, k.name+": a relative redirect", "GET", h, "/moved-rel", nil, "", redirect(301, "/new"))
	}
	checkKinds(t, kinds)
	// The ConfigMap's relative-redirects: every Ingress's, as the
	// annotation.
	allowSnippets(t, "relative-redirects", "true")
	for _, k := range kinds {
		expect(t, k.name+": relative by the ConfigMap", "GET", k.host, "/moved", nil, "", redirect(301, "/new?a=1"))
		expect(t, k.name+": to HTTPS still absolute", "GET", k.host, "/https/x", nil, "", redirect(308, "https://"+k.host+"/https/x"))
	}
}
