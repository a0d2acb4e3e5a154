package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// putNamespacedConfigMap creates or replaces ConfigMap ns/name.
func putNamespacedConfigMap(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	cms := env.client.CoreV1().ConfigMaps(ns)
	ctx := context.Background()
	cm, err := cms.Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		cm.Data = data
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	} else {
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// custom-headers: the headers of a ConfigMap of the Ingress's namespace
// are set on every answer, errors too, replacing the backend's of the
// same name, values kept literal ($ included); each name must be in the
// controller ConfigMap's global-allowed-response-headers, or the Ingress
// is refused with an Event. A change to the ConfigMap applies.
func TestAnnotationsCustomHeaders(t *testing.T) {
	allowSnippets(t, "global-allowed-response-headers", "X-Frame-Options, X-Literal, X-Echo-Host")
	ns := namespace(t, "headers")
	a := newApp(t, ns, "a", 1, "")
	putNamespacedConfigMap(t, ns, "headers", map[string]string{"X-Frame-Options": "DENY", "X-Literal": `$remote_addr; "q" \ {b} #c`,
		"X-Echo-Host": "replaced"})
	putNamespacedConfigMap(t, ns, "not-allowed", map[string]string{"X-Powered-By": "me"})
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name, k.annotations(map[string]string{"custom-headers": ns + "/headers"}),
			hostRule(k.host, prefixPath("/", "a"))))
		createIngress(t, newIngress(ns, k.name+"-plain", k.annotations(nil), hostRule(k.host, prefixPath("/plain", "a"))))
	}
	createIngress(t, newIngress(ns, "refused", map[string]string{ann + "custom-headers": "not-allowed"},
		hostRule("refused."+ns+".example.com", prefixPath("/", "a"))))
	headers := func(xfo string) func(reply) error {
		return func(r reply) error {
			for name, want := range map[string]string{"X-Frame-Options": xfo, "X-Literal": `$remote_addr; "q" \ {b} #c`, "X-Echo-Host": "replaced"} {
				if got := r.header.Values(name); len(got) != 1 || got[0] != want {
					return fmt.Errorf("header %s %q, want %q once", name, got, want)
				}
			}
			return nil
		}
	}
	for _, k := range kinds {
		expect(t, k.name+": headers on the answer", "GET", k.host, "/x", nil, "", func(r reply) error {
			if err := fromApp(a, 200)(r); err != nil {
				return err
			}
			return headers("DENY")(r)
		})
		expect(t, k.name+": headers on an error", "GET", k.host, "/__status/503", nil, "", headers("DENY"))
		expect(t, k.name+": none on another Ingress's path", "GET", k.host, "/plain", nil, "", func(r reply) error {
			if err := fromApp(a, 200)(r); err != nil {
				return err
			}
			if r.header.Get("X-Frame-Options") != "" || r.header.Get("X-Echo-Host") != k.host {
				return fmt.Errorf("X-Frame-Options %q, X-Echo-Host %q", r.header.Get("X-Frame-Options"), r.header.Get("X-Echo-Host"))
			}
			return nil
		})
	}
	checkKinds(t, kinds)
	putNamespacedConfigMap(t, ns, "headers", map[string]string{"X-Frame-Options": "SAMEORIGIN", "X-Literal": `$remote_addr; "q" \ {b} #c`,
		"X-Echo-Host": "replaced"})
	for _, k := range kinds {
		expect(t, k.name+": a change to the ConfigMap applies", "GET", k.host, "/x", nil, "", headers("SAMEORIGIN"))
	}
	eventWith(t, ns, "refused", "InvalidCustomHeaders", "X-Powered-By is not in the controller ConfigMap's global-allowed-response-headers")
	if r, err := send("GET", "refused."+ns+".example.com", "/", nil, ""); err != nil || r.echo != nil {
		t.Errorf("the refused Ingress is served: %v %+v", err, r.echo)
	}
}

// connection-proxy-header: the Connection header the backend gets,
// instead of Portico's (none, or upgrade for an upgrade request).
func TestAnnotationsConnectionHeader(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "conn")
	a := newApp(t, ns, "a", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name+"-close", k.annotations(map[string]string{"connection-proxy-header": "close"}),
			hostRule(k.host, prefixPath("/close", "a"))))
		createIngress(t, newIngress(ns, k.name+"-keep", k.annotations(map[string]string{"connection-proxy-header": "keep-alive"}),
			hostRule(k.host, prefixPath("/keep", "a"))))
		createIngress(t, newIngress(ns, k.name, k.annotations(nil), hostRule(k.host, prefixPath("/", "a"))))
	}
	connection := func(want string) func(reply) error {
		return func(r reply) error {
			if err := fromApp(a, 200)(r); err != nil {
				return err
			}
			if got := strings.Join(r.echo.Headers["Connection"], ","); got != want {
				return fmt.Errorf("backend saw Connection %q, want %q", got, want)
			}
			return nil
		}
	}
	for _, k := range kinds {
		expect(t, k.name+": close", "GET", k.host, "/close", nil, "", connection("close"))
		expect(t, k.name+": keep-alive", "GET", k.host, "/keep/x", nil, "", connection("keep-alive"))
		expect(t, k.name+": an upgrade request still gets close", "GET", k.host, "/close", map[string]string{"Upgrade": "websocket",
			"Connection": "Upgrade"}, "", connection("close"))
		expect(t, k.name+": Portico's otherwise", "GET", k.host, "/other", nil, "", connection(""))
	}
	checkKinds(t, kinds)
}

// disable-proxy-intercept-errors: with custom-http-errors, the backend's
// own errors pass as they are; only those nginx makes (here a read
// timeout's 504) go to the error backend. Without it both do.
func TestAnnotationsInterceptErrors(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "intercept")
	a := newApp(t, ns, "a", 1, "")
	errs := newApp(t, ns, "errsvc", 1, "")
	kinds, passed := hostKinds(ns+".example.com"), hostKinds("passed."+ns+".example.com")
	for i, k := range kinds {
		errors := map[string]string{"custom-http-errors": "404,504", "default-backend": "errsvc", "proxy-read-timeout": "1"}
		createIngress(t, newIngress(ns, k.name, k.annotations(errors), hostRule(k.host, prefixPath("/", "a"))))
		errors["disable-proxy-intercept-errors"] = "true"
		createIngress(t, newIngress(ns, k.name+"-passed", k.annotations(errors), hostRule(passed[i].host, prefixPath("/", "a"))))
	}
	// The error backend's own status (the echo backend's 200) reaches the
	// client; it sees the intercepted one in X-Code.
	from := func(app *app, code int) func(reply) error {
		return func(r reply) error {
			want := code
			if app == errs {
				want = 200
			}
			if r.code != want || r.echo == nil || r.echo.Service != app.name {
				return fmt.Errorf("want %d from %s", want, app.name)
			}
			if app == errs && r.echo.Headers["X-Code"][0] != fmt.Sprint(code) {
				return fmt.Errorf("error backend saw X-Code %v", r.echo.Headers["X-Code"])
			}
			return nil
		}
	}
	for i, k := range kinds {
		expect(t, k.name+": the backend's 404 intercepted", "GET", k.host, "/__status/404", nil, "", from(errs, 404))
		expect(t, k.name+": the backend's 404 passed", "GET", passed[i].host, "/__status/404", nil, "", from(a, 404))
		expect(t, k.name+": nginx's 504 intercepted", "GET", k.host, "/__sleep/2500", nil, "", from(errs, 504))
		expect(t, k.name+": nginx's 504 intercepted with the backend's passed", "GET", passed[i].host, "/__sleep/2500", nil, "", from(errs, 504))
	}
	checkKinds(t, append(kinds, passed...))
}
