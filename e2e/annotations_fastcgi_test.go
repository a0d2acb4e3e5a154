package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// newFastCGIApp starts a FastCGI responder pod (as PHP-FPM is, on 9000)
// and its Service and EndpointSlice.
func newFastCGIApp(t *testing.T, ns, name string) *app {
	t.Helper()
	return newOnePodApp(t, ns, name, 9000, 9000, func(h *framework.Host, pod string, port int) (*framework.Echo, error) {
		return framework.StartFastCGI(context.Background(), h, name, pod, port)
	})
}

// backend-protocol FCGI: nginx speaks FastCGI to the pods, with nginx's
// CGI parameters, fastcgi-index for a URI ending in '/', and the
// parameters of fastcgi-params-configmap; the responder gets the method,
// URI, query, headers and body.
func TestAnnotationsFastCGI(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "fastcgi")
	php := newFastCGIApp(t, ns, "php")
	putNamespacedConfigMap(t, ns, "fcgi", map[string]string{"SCRIPT_FILENAME": "/var/www$fastcgi_script_name", "APP_ENV": "prod"})
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name, k.annotations(map[string]string{"backend-protocol": "FCGI", "fastcgi-index": "index.php",
			"fastcgi-params-configmap": "fcgi"}), hostRule(k.host, pathOf("/", networkingv1.PathTypePrefix, "php", 9000))))
	}
	for _, k := range kinds {
		r := expect(t, k.name+": the FastCGI responder answers", "POST", k.host, "/app/?q=1", map[string]string{"X-Test": "yes"}, "hello", func(r reply) error {
			if r.code != 200 || r.echo == nil || r.echo.Service != php.name {
				return fmt.Errorf("want 200 from %s", php.name)
			}
			return nil
		})
		e := r.echo
		if e.Method != "POST" || e.Path != "/app/" || e.RawQuery != "q=1" || e.BodyBytes != 5 || e.Host != k.host ||
			strings.Join(e.Headers["X-Test"], ",") != "yes" {
			t.Errorf("%s: the responder saw %s %s (query %q, %d bytes, Host %s, X-Test %v)", k.name, e.Method, e.Path, e.RawQuery,
				e.BodyBytes, e.Host, e.Headers["X-Test"])
		}
		// SCRIPT_FILENAME names $fastcgi_script_name: fastcgi-index for a
		// URI ending in '/'.
		for name, want := range map[string]string{"SCRIPT_FILENAME": "/var/www/app/index.php", "SERVER_NAME": k.host,
			"APP_ENV": "prod", "GATEWAY_INTERFACE": "CGI/1.1", "DOCUMENT_URI": "/app/", "REQUEST_SCHEME": "http"} {
			if got := e.FastCGI[name]; got != want {
				t.Errorf("%s: FastCGI parameter %s = %q, want %q (all: %v)", k.name, name, got, want, e.FastCGI)
			}
		}
	}
	checkKinds(t, kinds)
}

// backend-protocol AUTO_HTTP: the backend is spoken to as the client
// spoke: HTTPS requests over HTTPS (the TLS pod answers), plain HTTP over
// HTTP (the TLS pod refuses it with 400).
func TestAnnotationsAutoHTTP(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "autohttp")
	a := newTLSApp(t, ns, "tlsapp")
	kinds := hostKinds(ns + ".example.com")
	c := newCert(t, time.Now().Add(time.Hour), kinds[0].host, kinds[1].host)
	putTLSSecret(t, ns, "tls", c)
	for _, k := range kinds {
		ing := newIngress(ns, k.name, k.annotations(map[string]string{"backend-protocol": "AUTO_HTTP"}), hostRule(k.host, prefixPath("/", a.name)))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{k.host}, SecretName: "tls"}}
		ing.Annotations[ann+"ssl-redirect"] = "false"
		createIngress(t, ing)
	}
	client := httpsClient(c)
	for _, k := range kinds {
		eventually(t, k.name+": HTTPS to the backend for an HTTPS request", func() error {
			resp, e, err := httpsGet(client, k.host, "/x")
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 || e == nil || e.Service != a.name {
				return fmt.Errorf("got %d %+v", resp.StatusCode, e)
			}
			return nil
		})
		expect(t, k.name+": HTTP to the backend for an HTTP request", "GET", k.host, "/x", nil, "", func(r reply) error {
			if r.code != 400 || r.echo != nil || !strings.Contains(r.body, "HTTP request to an HTTPS server") {
				return fmt.Errorf("want the TLS pod's 400 for plain HTTP")
			}
			return nil
		})
	}
	checkKinds(t, kinds)
}
