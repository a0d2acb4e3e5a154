package e2e

import (
	"strings"
	"testing"
)

// auth-method: the auth service is asked with that method (nginx's
// proxy_method in the auth location, as in ingress-nginx, which takes
// TRACE and CONNECT too), without the client's body; without it, with
// GET. The client's own method reaches the
// backend unchanged. On a routed host and a host with a server block.
func TestAuthMethod(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "authmethod")
	a := newApp(t, ns, "a", 1, "")
	authSvc := newApp(t, ns, "authsvc", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name+"-post", k.annotations(map[string]string{"auth-url": authURL(authSvc, 200, k.name+"-post"),
			"auth-method": "POST"}), hostRule(k.host, prefixPath("/post", "a"))))
		createIngress(t, newIngress(ns, k.name+"-trace", k.annotations(map[string]string{"auth-url": authURL(authSvc, 200, k.name+"-trace"),
			"auth-method": "TRACE"}), hostRule(k.host, prefixPath("/trace", "a"))))
		createIngress(t, newIngress(ns, k.name+"-default", k.annotations(map[string]string{"auth-url": authURL(authSvc, 200, k.name+"-default")}),
			hostRule(k.host, prefixPath("/default", "a"))))
	}
	for _, k := range kinds {
		for _, tc := range []struct{ path, method, want string }{
			{"/post", "GET", "POST"},
			{"/post", "PUT", "POST"},
			{"/trace", "GET", "TRACE"},
			{"/default", "GET", "GET"},
		} {
			what := k.name + ": " + tc.method + " " + tc.path
			r := expect(t, what, tc.method, k.host, tc.path, nil, "a body the auth service must not get", fromApp(a, 200))
			if r.echo.Method != tc.method {
				t.Errorf("%s: the backend got %s", what, r.echo.Method)
			}
			last := authStats(t, authSvc).Last
			if !strings.Contains(last.RequestURI, k.name+strings.Replace(tc.path, "/", "-", 1)) {
				t.Fatalf("%s: the auth service last saw %s, not this route's request", what, last.RequestURI)
			}
			if last.Method != tc.want {
				t.Errorf("%s: the auth service was asked with %s, want %s", what, last.Method, tc.want)
			}
			if cl := last.Headers["Content-Length"]; len(cl) > 0 && cl[0] != "0" {
				t.Errorf("%s: the auth service got a body (Content-Length %v)", what, cl)
			}
		}
	}
	checkKinds(t, kinds)
}
