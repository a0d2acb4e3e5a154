package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// warningEvents returns the messages of Warning Events about Ingress ns/name.
func warningEvents(ns, name string) ([]string, error) {
	list, err := env.client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.kind": "Ingress", "involvedObject.name": name, "type": corev1.EventTypeWarning}.String(),
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out, nil
}

// An annotation value that could inject nginx directives is refused: the
// Ingress's paths answer 503 naming the cause, it gets a Warning Event
// naming the annotation, and every other Ingress keeps working.
func TestInvalidAnnotationRejectedWithEvent(t *testing.T) {
	ns := namespace(t, "reject")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "good", nil, hostRule("good.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "evil", map[string]string{
		rewriteTarget: "/ok; }\n location /pwned { return 200 pwned; } #",
		"nginx.ingress.kubernetes.io/not-a-real-annotation": "x",
	}, hostRule("evil.example.com", prefixPath("/", "a"))))

	servedBy(t, "good.example.com", "/", a)
	eventually(t, "Warning Events on the rejected Ingress", func() error {
		evs, err := warningEvents(ns, "evil")
		if err != nil {
			return err
		}
		all := strings.Join(evs, "\n")
		for _, want := range []string{
			"InvalidAnnotation: metadata.annotations[nginx.ingress.kubernetes.io/rewrite-target]: invalid value",
			"UnsupportedAnnotation: metadata.annotations[nginx.ingress.kubernetes.io/not-a-real-annotation]",
			"IngressRejected",
		} {
			if !strings.Contains(all, want) {
				return fmt.Errorf("no event %q in:\n%s", want, all)
			}
		}
		return nil
	})
	answers(t, "evil.example.com", "/", 503)
	if r := get(t, "evil.example.com", "/"); r.code != 503 || !strings.Contains(r.body, "Ingress "+ns+"/evil is refused: InvalidAnnotation") {
		t.Errorf("rejected Ingress: %d %s, want 503 naming the cause", r.code, short(r.body))
	}
	if r := get(t, "evil.example.com", "/pwned"); r.code != 503 || strings.Contains(r.body, "pwned") {
		t.Errorf("injected location answered: %d %s", r.code, short(r.body))
	}
	if evs, _ := warningEvents(ns, "good"); len(evs) != 0 {
		t.Errorf("the good Ingress got Warning Events: %v", evs)
	}
}

// /metrics exposes the reload counter and /healthz reports health.
func TestMetricsAndHealthz(t *testing.T) {
	code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", env.portico.healthzPort))
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	for _, m := range []string{"portico_nginx_reloads_total", "portico_lua_pushes_total", "portico_sync_duration_seconds"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if code, body, err := env.portico.healthz(); err != nil || code != 200 {
		t.Errorf("/healthz = %d %q %v", code, body, err)
	}
	st := mustStatus(t)
	if st.Nginx.Reloads < 1 || st.Nginx.LastReason == "" {
		t.Errorf("status reports reloads=%d reason=%q", st.Nginx.Reloads, st.Nginx.LastReason)
	}
}
