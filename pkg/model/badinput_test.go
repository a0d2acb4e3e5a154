package model

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Bad input in any field of one Ingress is refused with a diagnostic that
// names the object and field and repeats no raw control character; the
// other Ingress is served either way, and no refused value reaches the
// model (so none can reach nginx.conf).
func TestBadInputIsRefusedAndContained(t *testing.T) {
	pfx := networkingv1.PathTypePrefix
	many := func(i *networkingv1.Ingress) {
		if i.Annotations == nil {
			i.Annotations = map[string]string{}
		}
		for n := range 10000 {
			i.Annotations[fmt.Sprintf("%sno-such-%05d", annotations.Prefix, n)] = "x"
		}
	}
	tests := []struct {
		name   string
		opts   []ingOpt
		field  string // of the refusing diagnostic
		reason string
		bad    string // must appear nowhere in the Config's servers
	}{
		{"control character in host", []ingOpt{rule("a\x00b.example.com", path("/", pfx, "api", 80))}, "spec.rules[0].host", "InvalidHost", "\x00"},
		{"unicode host", []ingOpt{rule("bücher.example.com", path("/", pfx, "api", 80))}, "spec.rules[0].host", "InvalidHost", "bücher"},
		{"newline in path", []ingOpt{rule("b.example.com", path("/a\nreturn 200;", pfx, "api", 80))}, "spec.rules[0].http.paths[0]", "InvalidPath", "return 200"},
		{"unicode path", []ingOpt{rule("b.example.com", path("/é", pfx, "api", 80))}, "spec.rules[0].http.paths[0]", "InvalidPath", "/é"},
		{"brace in path", []ingOpt{rule("b.example.com", path("/a}", pfx, "api", 80))}, "spec.rules[0].http.paths[0]", "InvalidPath", "/a}"},
		{"oversize path", []ingOpt{rule("b.example.com", path("/"+strings.Repeat("a", 5000), pfx, "api", 80))}, "spec.rules[0].http.paths[0]", "InvalidPath", strings.Repeat("a", 5000)},
		{"control character in annotation value", []ingOpt{annotate(annotations.Prefix+"rewrite-target", "/\x1b[2J"), rule("b.example.com", path("/", pfx, "api", 80))},
			"metadata.annotations[" + annotations.Prefix + "rewrite-target]", "InvalidAnnotation", "\x1b"},
		{"unicode in annotation value", []ingOpt{annotate(annotations.Prefix+"rewrite-target", "/ünï"), rule("b.example.com", path("/", pfx, "api", 80))},
			"metadata.annotations[" + annotations.Prefix + "rewrite-target]", "InvalidAnnotation", "ünï"},
		{"oversize annotation value", []ingOpt{annotate(annotations.Prefix+"rewrite-target", "/"+strings.Repeat("b", 1<<20)), rule("b.example.com", path("/", pfx, "api", 80))},
			"metadata.annotations[" + annotations.Prefix + "rewrite-target]", "InvalidAnnotation", strings.Repeat("b", 2000)},
		{"10,000 unknown annotations", []ingOpt{many, rule("b.example.com", path("/", pfx, "api", 80))},
			"metadata.annotations", "UnsupportedAnnotation", "no-such-09999"},
		{"unicode service name", []ingOpt{rule("b.example.com", path("/", pfx, "äpi", 80))}, "spec.rules[0].http.paths[0].backend.service", "InvalidBackend", "äpi"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := ingress("lab", "bad", append([]ingOpt{created(0)}, tc.opts...)...)
			good := ingress("lab", "good", created(1), rule("good.example.com", path("/", pfx, "api", 80)))
			cfg := Build(Input{Ingresses: []*networkingv1.Ingress{bad, good}, IngressClasses: []*networkingv1.IngressClass{ourClass()},
				Services: []*corev1.Service{service("lab", "api", svcPort("", 80, 8080))}, Options: defaultOptions})
			found := false
			for _, d := range cfg.Diagnostics {
				if strings.ContainsAny(d.Message, "\x00\x1b\n\r") {
					t.Errorf("diagnostic repeats a raw control character: %q", d.Message)
				}
				if len(d.Message) > 2048 {
					t.Errorf("diagnostic of %d bytes", len(d.Message))
				}
				if d.Object == (diag.Object{Kind: "Ingress", Namespace: "lab", Name: "bad"}) && d.Field == tc.field && d.Reason == tc.reason {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s diagnostic on field %s; got %v", tc.reason, tc.field, cfg.Diagnostics)
			}
			if len(cfg.Diagnostics) > 10 {
				t.Errorf("%d diagnostics: one bad object must not flood Events", len(cfg.Diagnostics))
			}
			served := false
			for _, s := range cfg.Servers {
				served = served || (s.Host == "good.example.com" && len(s.Locations) > 0 && s.Locations[0].Backend != "")
				for _, l := range s.Locations {
					if strings.Contains(s.Host+l.Path+string(l.RewriteTarget)+l.Backend, tc.bad) {
						t.Errorf("refused value reached the model: server %q location %q", s.Host, l.Path)
					}
				}
			}
			if !served {
				t.Error("the other Ingress is not served")
			}
		})
	}
}
