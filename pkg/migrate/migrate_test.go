package migrate

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/lint"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// line is one item of a report, without its detail.
func lines(r Report) []string {
	var out []string
	for _, o := range r.Objects {
		out = append(out, o.String()+": "+string(o.Status))
		for _, it := range o.Items {
			out = append(out, "  "+it.Field+": "+string(it.Status))
		}
	}
	return out
}

func seeded(t *testing.T) Input {
	t.Helper()
	objs, err := lint.Load([]string{"testdata/installation.yaml"}, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{
		Controller: diag.Object{Kind: "Deployment", Namespace: "ingress-nginx", Name: "ingress-nginx-controller"},
		Flags: []Item{{Field: "--publish-service", Value: "ingress-nginx/ingress-nginx-controller", Status: Unchanged},
			{Field: "--enable-ssl-passthrough", Value: "true", Status: Unsupported, Detail: "no TLS passthrough"}},
		Options:        model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
		Ingresses:      objs.Ingresses,
		IngressClasses: objs.IngressClasses,
		Services:       objs.Services,
		Now:            time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, cm := range objs.ConfigMaps {
		if cm.Name == "ingress-nginx-tcp" {
			in.Layer4 = append(in.Layer4, Layer4{Protocol: "TCP", ConfigMap: cm})
		} else {
			in.ConfigMap = cm
		}
	}
	return in
}

// The seeded installation: every status, from the registries and the
// model, per object and field.
func TestAnalyzeSeeded(t *testing.T) {
	r := Analyze(seeded(t))
	want := []string{
		"Deployment ingress-nginx/ingress-nginx-controller: unsupported",
		"  --publish-service: unchanged",
		"  --enable-ssl-passthrough: unsupported",
		"ConfigMap ingress-nginx/ingress-nginx-controller: unsupported",
		"  data[jaeger-collector-host]: unsupported",
		"  data[my-own-key]: unchanged",
		"  data[proxy-body-size]: unchanged",
		"  data[proxy-connect-timeout]: differs",
		"  data[ssl-redirect]: differs",
		"ConfigMap ingress-nginx/ingress-nginx-tcp: unsupported",
		"  data[22]: unsupported",
		"  data[9000]: differs",
		"Ingress apps/backends: differs",
		"  spec.rules[0].http.paths[0].backend.service: differs",
		"  spec.rules[0].http.paths[1].backend.service: unchanged",
		"Ingress apps/mixed: differs",
		"  metadata.annotations[nginx.ingress.kubernetes.io/opentelemetry-operation-name]: unchanged",
		"  metadata.annotations[nginx.ingress.kubernetes.io/proxy-read-timeout]: differs",
		"  metadata.annotations[nginx.ingress.kubernetes.io/server-alias]: differs",
		"  (whole object): differs",
		"Ingress apps/plain: unchanged",
		"Ingress apps/supported: unchanged",
		"  metadata.annotations[nginx.ingress.kubernetes.io/enable-cors]: unchanged",
		"  metadata.annotations[nginx.ingress.kubernetes.io/made-up]: unchanged",
		"  metadata.annotations[nginx.ingress.kubernetes.io/proxy-body-size]: unchanged",
	}
	if diff := cmp.Diff(want, lines(r)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if !r.Changes() || r.Unchanged != 2 || r.Differs != 2 || r.Unsupported != 3 {
		t.Errorf("counts: %d unchanged, %d differ, %d unsupported", r.Unchanged, r.Differs, r.Unsupported)
	}
	// Details say how, from the registries and the model.
	details := map[string]string{}
	for _, o := range r.Objects {
		for _, it := range o.Items {
			details[o.Name+" "+it.Field] = it.Detail
		}
	}
	for key, want := range map[string]string{
		"mixed metadata.annotations[nginx.ingress.kubernetes.io/server-alias]": "leading `*.`",
		"mixed (whole object)": "IngressRejected: the Ingress is refused because of the errors above: its paths answer 503",
		"mixed metadata.annotations[nginx.ingress.kubernetes.io/proxy-read-timeout]":           "Portico refuses it: InvalidAnnotation",
		"mixed metadata.annotations[nginx.ingress.kubernetes.io/opentelemetry-operation-name]": "as in ingress-nginx: SpanNameIgnored",
		"ingress-nginx-controller data[jaeger-collector-host]":                                 "no longer reads it",
		"ingress-nginx-controller data[proxy-connect-timeout]":                                 "Portico refuses it: InvalidOption",
		"ingress-nginx-tcp data[9000]":                                                         "connections to TCP port 9000 are closed",
		"ingress-nginx-tcp data[22]":                                                           "Portico refuses it: InvalidStreamService",
		"backends spec.rules[0].http.paths[0].backend.service":                                 "ExternalName",
		"backends spec.rules[0].http.paths[1].backend.service":                                 "as in ingress-nginx: BackendNotFound",
	} {
		if !strings.Contains(details[key], want) {
			t.Errorf("%s: detail %q lacks %q", key, details[key], want)
		}
	}
}

// Only what carries over unchanged: exit status 0 material.
func TestAnalyzeNothingChanges(t *testing.T) {
	in := seeded(t)
	in.Flags = in.Flags[:1]
	in.ConfigMap, in.Layer4 = nil, nil
	var keep = in.Ingresses[:0]
	for _, ing := range in.Ingresses {
		if ing.Name == "plain" || ing.Name == "supported" {
			keep = append(keep, ing)
		}
	}
	in.Ingresses = keep
	if r := Analyze(in); r.Changes() || r.Unchanged != 3 {
		t.Errorf("report %q: changes %v", lines(r), r.Changes())
	}
	// With --disable-svc-external-name, an ExternalName backend is no change.
	in = seeded(t)
	in.DisableExternalName = true
	for _, o := range Analyze(in).Objects {
		if o.Name == "backends" && o.Status != Unchanged {
			t.Errorf("backends with --disable-svc-external-name: %s %+v", o.Status, o.Items)
		}
	}
}

// A snippet the operator has not allowed is dropped, as ingress-nginx
// drops it: no change; one above annotations-risk-level refuses the
// Ingress in both, which Portico answers 503 rather than leaving out.
func TestAnalyzeSnippets(t *testing.T) {
	for _, tc := range []struct {
		risk, item, whole string
	}{
		{"Critical", "unchanged", ""},
		{"High", "differs", "differs"},
	} {
		in := seeded(t)
		in.ConfigMap = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"},
			Data: map[string]string{"annotations-risk-level": tc.risk}}
		in.Layer4 = nil
		var keep = in.Ingresses[:0]
		for _, ing := range in.Ingresses {
			if ing.Name == "plain" {
				ing.Annotations = map[string]string{"nginx.ingress.kubernetes.io/configuration-snippet": `more_set_headers "A: b";`}
				keep = append(keep, ing)
			}
		}
		in.Ingresses = keep
		items := map[string]Item{}
		for _, o := range Analyze(in).Objects {
			for _, it := range o.Items {
				items[o.Name+" "+it.Field] = it
			}
		}
		it := items["plain metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet]"]
		if string(it.Status) != tc.item || tc.item == "unchanged" && !strings.Contains(it.Detail, "as in ingress-nginx: SnippetsDisabled") {
			t.Errorf("risk %s: snippet %s %q, want %s", tc.risk, it.Status, it.Detail, tc.item)
		}
		if whole := items["plain (whole object)"]; string(whole.Status) != tc.whole {
			t.Errorf("risk %s: whole object %s %q, want %q", tc.risk, whole.Status, whole.Detail, tc.whole)
		}
	}
}

// A value ingress-nginx also replaces by its default (AnnotationValueIgnored)
// is no change; one it takes and Portico refuses is.
func TestAnalyzeValuesIngressNginxIgnores(t *testing.T) {
	for _, tc := range []struct {
		code, item string
	}{
		{"200", "unchanged"},
		{"304", "differs"},
	} {
		in := seeded(t)
		in.Layer4 = nil
		var keep = in.Ingresses[:0]
		for _, ing := range in.Ingresses {
			if ing.Name == "plain" {
				ing.Annotations = map[string]string{"nginx.ingress.kubernetes.io/temporal-redirect": "https://maint.example.com/",
					"nginx.ingress.kubernetes.io/temporal-redirect-code": tc.code}
				keep = append(keep, ing)
			}
		}
		in.Ingresses = keep
		var it Item
		for _, o := range Analyze(in).Objects {
			for _, i := range o.Items {
				if o.Name == "plain" && i.Field == "metadata.annotations[nginx.ingress.kubernetes.io/temporal-redirect-code]" {
					it = i
				}
			}
		}
		if string(it.Status) != tc.item {
			t.Errorf("temporal-redirect-code %s: %s %q, want %s", tc.code, it.Status, it.Detail, tc.item)
		}
	}
}
