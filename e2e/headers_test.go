package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// putNamedConfigMap creates or replaces a ConfigMap of the controller's
// namespace and removes it when the test ends.
func putNamedConfigMap(t *testing.T, name string, data map[string]string) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: configMapNamespace}}, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	cms := env.client.CoreV1().ConfigMaps(configMapNamespace)
	cm, err := cms.Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		cm.Data = data
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	} else {
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}, metav1.CreateOptions{})
		t.Cleanup(func() { _ = cms.Delete(ctx, name, metav1.DeleteOptions{}) })
	}
	if err != nil {
		t.Fatal(err)
	}
}

// The header keys on a routed host and on one with a server block:
// add-headers' ConfigMap sets headers on every answer (in place of the
// backend's, on 404s too) and is watched; proxy-set-headers' reach the
// backend in place of Portico's own of the same name; hide-headers hides
// the backend's; the backend's Server passes only with
// allow-backend-server-header; X-Original-URI only with
// proxy-add-original-uri-header. A header that does not parse is left
// out with a Warning Event. No restart.
func TestConfigMapHeaders(t *testing.T) {
	ns := namespace(t, "headers")
	newApp(t, ns, "a", 1, "")
	const routed, static = "headers.example.com", "static.headers.example.com"
	base := []string{"add-headers", configMapNamespace + "/headers-response", "proxy-set-headers", configMapNamespace + "/headers-request",
		"hide-headers", "X-Powered-By, X-Runtime"}
	putNamedConfigMap(t, "headers-response", map[string]string{"X-Frame-Options": "DENY", "X-Served-By": "portico $server_port",
		"Clear-Site-Data": `"cache"`, "X-Bad": "$nosuch"})
	putNamedConfigMap(t, "headers-request", map[string]string{"X-Using-Portico": "true", "X-Forwarded-Proto": "https",
		"X-Client-Port": "$remote_port"})
	allowSnippets(t, base...)
	createIngress(t, newIngress(ns, "routed", nil, hostRule(routed, prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "static", needsServerBlock(), hostRule(static, prefixPath("/", "a"))))
	restarts := mustStatus(t).Nginx.Restarts
	respond := "/__respond?X-Powered-By=php&X-Runtime=1ms&X-Frame-Options=SAMEORIGIN&Server=backend%2F1&X-Kept=yes"
	for _, host := range []string{routed, static} {
		r := expect(t, "add-headers on "+host, "GET", host, respond, nil, "", func(r reply) error {
			if r.code != 200 || r.echo == nil || r.echo.Service != "a" || r.header.Get("X-Frame-Options") != "DENY" {
				return fmt.Errorf("X-Frame-Options %q", r.header.Get("X-Frame-Options"))
			}
			return nil
		})
		for h, want := range map[string]string{"X-Served-By": "portico " + strconv.Itoa(env.portico.httpPort),
			"Clear-Site-Data": `"cache"`, "X-Kept": "yes", "Server": "nginx", "X-Powered-By": "", "X-Runtime": "", "X-Bad": ""} {
			if got := strings.Join(r.header.Values(h), ", "); got != want {
				t.Errorf("%s: answer's %s %q, want %q", host, h, got, want)
			}
		}
		seen := r.echo.Headers
		for h, want := range map[string]string{"X-Using-Portico": "true", "X-Forwarded-Proto": "https"} {
			if got := seen[h]; len(got) != 1 || got[0] != want {
				t.Errorf("%s: backend saw %s %q, want %q once", host, h, got, want)
			}
		}
		if port, err := strconv.Atoi(strings.Join(seen["X-Client-Port"], "")); err != nil || port == 0 {
			t.Errorf("%s: backend saw X-Client-Port %q, want the client's port", host, seen["X-Client-Port"])
		}
		if got := seen["X-Original-Uri"]; got != nil {
			t.Errorf("%s: backend saw X-Original-URI %q without proxy-add-original-uri-header", host, got)
		}
	}
	if r := get(t, "nothing.headers.invalid", "/"); r.code != 404 {
		t.Errorf("unknown host: %d", r.code)
	} else if got, _ := getRaw("nothing.headers.invalid", "/", nil); got.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("404's X-Frame-Options %q, want DENY (add-headers is on every answer)", got.header.Get("X-Frame-Options"))
	}
	configMapWarning(t, `InvalidHeader: data[add-headers]: ConfigMap `+configMapNamespace+`/headers-response: data[X-Bad] "$nosuch" is left out`)

	// A change to the named ConfigMap alone applies: it is watched.
	putNamedConfigMap(t, "headers-response", map[string]string{"X-Frame-Options": "SAMEORIGIN"})
	expect(t, "the named ConfigMap's change", "GET", routed, "/", nil, "", func(r reply) error {
		if got := r.header.Get("X-Frame-Options"); got != "SAMEORIGIN" || r.header.Get("X-Served-By") != "" {
			return fmt.Errorf("X-Frame-Options %q, X-Served-By %q", got, r.header.Get("X-Served-By"))
		}
		return nil
	})

	allowSnippets(t, append(base, "allow-backend-server-header", "true", "proxy-add-original-uri-header", "true")...)
	for _, host := range []string{routed, static} {
		r := expect(t, "the backend's Server on "+host, "GET", host, respond, nil, "", func(r reply) error {
			if got := r.header.Get("Server"); got != "backend/1" {
				return fmt.Errorf("Server %q", got)
			}
			return nil
		})
		if got := r.echo.Headers["X-Original-Uri"]; len(got) != 1 || got[0] != respond {
			t.Errorf("%s: backend saw X-Original-URI %q, want %q", host, got, respond)
		}
	}
	if got := mustStatus(t).Nginx.Restarts; got != restarts {
		t.Errorf("nginx restarted %d times", got-restarts)
	}
}
