package model

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// A refused Ingress never opens a path: its previous version serves, or
// its paths answer 503 (a refused backend), never another Ingress's
// route.
func TestRefusedIngress(t *testing.T) {
	auth := func(secret string) []ingOpt {
		return []ingOpt{annotate(annotations.Prefix+"auth-type", "basic"), annotate(annotations.Prefix+"auth-secret", secret)}
	}
	version := func(rv string) ingOpt { return func(i *networkingv1.Ingress) { i.ResourceVersion = rv } }
	locked := func(rv, secret string, more ...ingOpt) *networkingv1.Ingress {
		opts := append(append([]ingOpt{created(1), version(rv)}, auth(secret)...), more...)
		return ingress("ns", "locked", append(opts, rule("h.com", path("/admin", prefix, "admin", 80)))...)
	}
	open := ingress("ns", "open", rule("h.com", path("/", prefix, "app", 80)))
	users := &corev1.Secret{ObjectMeta: metaNS("ns", "users"), Data: map[string][]byte{"auth": []byte("alice:" + apr1 + "\n")}}
	build := func(served map[IngressRef]*networkingv1.Ingress, ings ...*networkingv1.Ingress) *Config {
		return Build(Input{Ingresses: ings, Served: served, IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services: []*corev1.Service{service("ns", "app", svcPort("", 80, 80)), service("ns", "admin", svcPort("", 80, 80)),
				service("ns", "canary", svcPort("", 80, 80))},
			Secrets: []*corev1.Secret{users}, Options: defaultOptions})
	}
	backend := func(cfg *Config, name string) *Backend {
		for _, b := range cfg.Backends {
			if b.Name == name {
				return b
			}
		}
		return nil
	}
	rejected := func(cfg *Config, name string) string {
		for _, d := range cfg.Diagnostics {
			if d.Object.Name == name && d.Reason == "IngressRejected" {
				return d.Message
			}
		}
		return ""
	}
	ref := IngressRef{"ns", "locked"}

	t.Run("a new refused Ingress's paths answer 503 under another's broader prefix", func(t *testing.T) {
		cfg := build(nil, open, locked("2", "missing"))
		for _, p := range []string{"/admin", "/admin/", "/admin/x"} {
			if _, l := cfg.Match("h.com", p); l == nil || l.Backend != "ns/locked@refused" || l.BasicAuth != nil {
				t.Errorf("%s: %+v, want the refused backend", p, l)
			}
		}
		be := backend(cfg, "ns/locked@refused")
		if be == nil || !be.Refused || len(be.Endpoints) != 0 || !strings.Contains(be.NoEndpoints, "InvalidAuthSecret at metadata.annotations[nginx.ingress.kubernetes.io/auth-secret]") {
			t.Errorf("refused backend %+v", be)
		}
		if _, l := cfg.Match("h.com", "/other"); l == nil || l.Backend != "ns/app:80" {
			t.Errorf("the other Ingress: %+v", l)
		}
		if m := rejected(cfg, "locked"); !strings.Contains(m, "paths answer 503") {
			t.Errorf("IngressRejected %q", m)
		}
		// An endpoints change keeps it as it is.
		if be2 := backend(cfg.WithEndpoints(nil, nil), "ns/locked@refused"); be2 != be {
			t.Errorf("WithEndpoints changed the refused backend: %+v", be2)
		}
	})

	t.Run("a changed Ingress whose change is refused keeps its previous version serving", func(t *testing.T) {
		good := locked("1", "users")
		cfg := build(map[IngressRef]*networkingv1.Ingress{ref: good}, open, locked("2", "missing"))
		_, l := cfg.Match("h.com", "/admin/x")
		if l == nil || l.Backend != "ns/admin:80" || l.BasicAuth == nil {
			t.Errorf("/admin/x: %+v, want the previous version with basic auth", l)
		}
		if len(cfg.ServedPrevious) != 1 || cfg.ServedPrevious[0] != ref {
			t.Errorf("ServedPrevious %v", cfg.ServedPrevious)
		}
		if m := rejected(cfg, "locked"); !strings.Contains(m, "previous version (resourceVersion 1) keeps serving") {
			t.Errorf("IngressRejected %q", m)
		}
		// A previous version that is refused too: 503.
		cfg = build(map[IngressRef]*networkingv1.Ingress{ref: locked("1", "gone")}, open, locked("2", "missing"))
		if _, l := cfg.Match("h.com", "/admin/x"); l == nil || l.Backend != "ns/locked@refused" || cfg.ServedPrevious != nil {
			t.Errorf("/admin/x: %+v (previous %v), want the refused backend", l, cfg.ServedPrevious)
		}
		// The same version: nothing older to serve.
		cfg = build(map[IngressRef]*networkingv1.Ingress{ref: locked("2", "missing")}, open, locked("2", "missing"))
		if _, l := cfg.Match("h.com", "/admin/x"); l == nil || l.Backend != "ns/locked@refused" {
			t.Errorf("/admin/x: %+v, want the refused backend", l)
		}
	})

	t.Run("a refused Ingress's defaultBackend answers 503 on its hosts; a refused canary is not attached", func(t *testing.T) {
		canary := ingress("ns", "canary", created(2), annotate(annotations.Prefix+"canary", "true"),
			annotate(annotations.Prefix+"canary-weight", "lots"), rule("h.com", path("/", prefix, "canary", 80)))
		cfg := build(nil, open, locked("2", "missing", defaultBackend("admin", 80)), canary)
		if _, l := cfg.Match("h.com", "/"); l == nil || l.Backend != "ns/app:80" {
			t.Errorf("/: %+v, want the open Ingress's own, with no canary", l)
		}
		for _, b := range cfg.Backends {
			if b.Canary != nil {
				t.Errorf("a refused canary is attached: %+v", b)
			}
		}
		if m := rejected(cfg, "canary"); !strings.Contains(m, "not attached") {
			t.Errorf("canary IngressRejected %q", m)
		}
		catchAll := ingress("ns", "catch-all", append([]ingOpt{created(3), defaultBackend("admin", 80)}, auth("missing")...)...)
		cfg = build(nil, locked("2", "missing", defaultBackend("admin", 80)), catchAll)
		if _, l := cfg.Match("h.com", "/nothing"); l == nil || l.Backend != "ns/locked@refused" {
			t.Errorf("/nothing on the refused Ingress's host: %+v, want the refused backend", l)
		}
		if _, l := cfg.Match("other.com", "/"); l == nil || l.Backend != "" {
			t.Errorf("another host: %+v, want 404, not a refused Ingress's default backend", l)
		}
	})
}
