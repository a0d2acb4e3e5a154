package e2e

import (
	"fmt"
	"testing"
)

// custom-http-errors as ingress-nginx serves them (error_page <code> =
// @custom_...; rewrite to /): the error backend is asked for "/", with
// the original request in X-Original-URI and the status in X-Code, and
// the client gets the error backend's answer with its status (here the
// echo backend's 200), on routed and server-block hosts.
func TestCustomHTTPErrorsAnswerStatus(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "errstatus")
	newApp(t, ns, "a", 1, "")
	errs := newApp(t, ns, "errsvc", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name, k.annotations(map[string]string{"custom-http-errors": "404,503", "default-backend": "errsvc"}),
			hostRule(k.host, prefixPath("/", "a"))))
	}
	for _, k := range kinds {
		r := expect(t, k.name+": the error backend's answer and status", "GET", k.host, "/__status/404?q=1", nil, "", fromApp(errs, 200))
		for h, want := range map[string]string{"X-Code": "404", "X-Original-Uri": "/__status/404?q=1", "X-Ingress-Name": k.name} {
			if got := r.echo.Headers[h]; len(got) != 1 || got[0] != want {
				t.Errorf("%s: the error backend saw %s %v, want %s", k.name, h, got, want)
			}
		}
		if r.echo.Path != "/" {
			t.Errorf("%s: the error backend was asked for %s, want /", k.name, r.echo.Path)
		}
		expect(t, k.name+": 503 too", "GET", k.host, "/__status/503", nil, "", func(r reply) error {
			if err := fromApp(errs, 200)(r); err != nil {
				return err
			}
			if got := r.echo.Headers["X-Code"]; len(got) != 1 || got[0] != "503" {
				return fmt.Errorf("X-Code %v", got)
			}
			return nil
		})
	}
	checkKinds(t, kinds)
}
