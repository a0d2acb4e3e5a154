package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// stream-snippet as ingress-nginx takes it: above annotations-risk-level
// it refuses its Ingress; not allowed (within annotations-risk-level
// Critical, allow-snippet-annotations off) it is dropped with a Warning
// and the Ingress is served, while the ConfigMap's stream-snippet serves; allowed, its server
// in nginx's stream block proxies TCP to a backend. A second Ingress's
// snippet that listens on the same port makes nginx -t refuse the
// config: that Ingress alone is held back (Warning Event naming nginx's
// error), the first snippet and other Ingresses keep being served, and
// the fixed snippet is applied. One on Portico's HTTP port is refused
// before nginx sees it.
func TestAnnotationsStreamSnippet(t *testing.T) {
	framework.SkipUnlessRoot(t)
	ns := namespace(t, "streamsnip")
	a := newApp(t, ns, "a", 1, "")
	db := newStreamApp(t, ns, "db", 1, false)
	backend := db.pods[0]
	port, second, cmPort := freePort(), freePort(), freePort()
	text := func(p int) string {
		return fmt.Sprintf("server {\n    listen 127.0.0.1:%d;\n    proxy_pass %s:9000;\n}", p, backend.host.Addr())
	}
	server := func(p int) map[string]string { return map[string]string{ann + "stream-snippet": text(p)} }
	echoes := func(p int) error {
		c, err := dialStream(p, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		if c.Pod != backend.name {
			return fmt.Errorf("port %d: answered by %q, want %s", p, c.Pod, backend.name)
		}
		return c.Echoes("through the stream snippet", streamEchoTimeout)
	}
	// The shared controller keeps the namespace's Ingresses: take the
	// snippets out of its stream block when done.
	t.Cleanup(func() {
		for _, name := range []string{"stream", "clash", "httpport"} {
			_ = env.client.NetworkingV1().Ingresses(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
		}
	})

	createIngress(t, newIngress(ns, "stream", server(port), hostRule("stream.streamsnip.example.com", prefixPath("/", "a"))))
	eventWith(t, ns, "stream", "AnnotationRiskTooHigh: metadata.annotations[nginx.ingress.kubernetes.io/stream-snippet]", "IngressRejected")
	answers(t, "stream.streamsnip.example.com", "/", 503)

	// The ConfigMap's stream-snippet is the operator's: taken while the
	// annotation's is dropped (ingress-nginx's e2e "should add
	// stream-snippet and drop annotations per admin config").
	putConfigMap(t, map[string]string{"annotations-risk-level": "Critical", "stream-snippet": text(cmPort)})
	servedBy(t, "stream.streamsnip.example.com", "/", a)
	eventWith(t, ns, "stream", "SnippetsDisabled: metadata.annotations[nginx.ingress.kubernetes.io/stream-snippet]")
	eventually(t, "the ConfigMap's stream-snippet serves TCP", func() error { return echoes(cmPort) })
	if err := echoes(port); err == nil {
		t.Errorf("a stream-snippet that is not allowed serves port %d", port)
	}

	allowSnippets(t)
	eventually(t, "the stream-snippet serves TCP", func() error { return echoes(port) })

	createIngress(t, newIngress(ns, "clash", server(port), hostRule("clash.streamsnip.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "later", nil, hostRule("later.streamsnip.example.com", prefixPath("/", "a"))))
	servedBy(t, "later.streamsnip.example.com", "/", a)
	eventWith(t, ns, "clash", "ConfigNotApplied", "duplicate")
	if r := get(t, "clash.streamsnip.example.com", "/"); r.echo != nil {
		t.Errorf("the Ingress whose stream-snippet nginx refuses is served")
	}
	if err := echoes(port); err != nil {
		t.Errorf("the first stream-snippet, beside a refused one: %v", err)
	}
	if evs, err := warningEvents(ns, "stream"); err != nil || strings.Contains(strings.Join(evs, "\n"), "ConfigNotApplied") {
		t.Errorf("the first Ingress: Warning Events %q %v, want no ConfigNotApplied", evs, err)
	}

	// Portico's own port: nginx -t would pass and the reload fail to
	// bind it, so the model refuses the Ingress first.
	createIngress(t, newIngress(ns, "httpport", server(env.portico.httpPort), hostRule("httpport.streamsnip.example.com", prefixPath("/", "a"))))
	eventWith(t, ns, "httpport", "StreamPortTaken", "HTTP port", "IngressRejected")
	answers(t, "httpport.streamsnip.example.com", "/", 503)
	if err := echoes(port); err != nil {
		t.Errorf("the first stream-snippet, beside one on the HTTP port: %v", err)
	}

	updateAnnotations(t, ns, "clash", server(second))
	eventually(t, "the fixed stream-snippet serves TCP", func() error { return echoes(second) })
	servedBy(t, "clash.streamsnip.example.com", "/", a)
	if err := echoes(port); err != nil {
		t.Errorf("the first stream-snippet: %v", err)
	}
}

// A stream snippet on a port another process of the node holds: nginx -t
// passes and the reload fails to bind it, the master trying again for
// seconds. Exactly that Ingress is held back (its error names bind()), and
// a valid change to another Ingress in the same sync is applied, not held
// with the master's later retries of the failed reload.
func TestAnnotationsStreamSnippetPortInUse(t *testing.T) {
	framework.SkipUnlessRoot(t)
	ns := namespace(t, "streamheld")
	a := newApp(t, ns, "a", 1, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := ln.Addr().(*net.TCPAddr).Port
	allowSnippets(t)
	t.Cleanup(func() {
		_ = env.client.NetworkingV1().Ingresses(ns).Delete(context.Background(), "inuse", metav1.DeleteOptions{})
	})
	createIngress(t, newIngress(ns, "inuse", map[string]string{ann + "stream-snippet": fmt.Sprintf("server { listen 127.0.0.1:%d; proxy_pass 127.0.0.1:9; }", held)},
		hostRule("inuse.streamheld.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "good", map[string]string{ann + "configuration-snippet": "add_header X-Good yes always;"},
		hostRule("good.streamheld.example.com", prefixPath("/", "a"))))
	eventWith(t, ns, "inuse", "ConfigNotApplied", "bind()")
	servedBy(t, "good.streamheld.example.com", "/", a)
	if evs, err := warningEvents(ns, "good"); err != nil || len(evs) > 0 {
		t.Errorf("the valid Ingress: Warning Events %q %v, want none", evs, err)
	}
	// Its next change is applied too.
	updateAnnotations(t, ns, "good", map[string]string{ann + "configuration-snippet": "add_header X-Good again always;"})
	expect(t, "the valid Ingress's change", "GET", "good.streamheld.example.com", "/", nil, "", func(r reply) error {
		if v := r.header.Get("X-Good"); v != "again" {
			return fmt.Errorf("X-Good %q", v)
		}
		return nil
	})
	if r := get(t, "inuse.streamheld.example.com", "/"); r.echo != nil {
		t.Errorf("the Ingress nginx cannot load is served")
	}
}
