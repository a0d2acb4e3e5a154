package lint

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

var opts = Options{
	Model: model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
	Now:   time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
}

// summary is "Severity Object field Reason" per diagnostic.
func summary(r Result) []string {
	var out []string
	for _, d := range r.Diagnostics {
		out = append(out, strings.Join([]string{string(d.Severity), d.Object.String(), d.Field, d.Reason}, " | "))
	}
	return out
}

func load(t *testing.T, paths ...string) *Objects {
	t.Helper()
	objs, err := Load(paths, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestLintGood(t *testing.T) {
	objs := load(t, "testdata/good")
	r := Lint(objs, opts)
	// Notes only: the annotations Portico supports with a difference.
	want := []string{
		"Info | Ingress lab/path-ingress | metadata.annotations[nginx.ingress.kubernetes.io/server-alias] | PartlySupported",
	}
	if diff := cmp.Diff(want, summary(r)); r.Failed() || diff != "" {
		t.Errorf("good manifests reported (-want +got):\n%s", diff)
	}
	if r.Objects != 4 || r.Skipped != 1 {
		t.Errorf("objects %d skipped %d, want 4 and 1 (the Deployment)", r.Objects, r.Skipped)
	}
}

func TestLintBad(t *testing.T) {
	r := Lint(load(t, "testdata/bad"), opts)
	want := []string{
		"Warning | Ingress lab/b-second | spec.rules[0].http.paths[0] | PathConflict",
		"Error | Ingress lab/evil |  | IngressRejected",
		"Error | Ingress lab/evil | metadata.annotations[nginx.ingress.kubernetes.io/rewrite-target] | InvalidAnnotation",
		"Warning | Ingress lab/refs | spec.rules[0].http.paths[0].backend.service | BackendNotFound",
		"Warning | Ingress lab/refs | spec.rules[0].http.paths[1].backend.service | BackendNotFound",
		"Error | Ingress lab/snippets |  | IngressRejected",
		"Error | Ingress lab/snippets | metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet] | AnnotationRiskTooHigh",
		"Warning | Ingress lab/snippets | metadata.annotations[nginx.ingress.kubernetes.io/opentelemetry-operation-name] | SpanNameIgnored",
		"Info | Ingress lab/theirs |  | NotServed",
		"Warning | Ingress lab/typo | spec.ingressClassName | UnknownIngressClass",
	}
	if diff := cmp.Diff(want, summary(r)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if !r.Failed() {
		t.Error("bad manifests did not fail")
	}
	msgs := map[string]string{}
	for _, d := range r.Diagnostics {
		msgs[d.Object.Name+" "+d.Field] = d.Message
	}
	for k, v := range map[string]string{
		"refs spec.rules[0].http.paths[0].backend.service": "service lab/gone-service does not exist; requests get 503",
		"refs spec.rules[0].http.paths[1].backend.service": "service lab/api-service has no port web; requests get 503",
		"typo spec.ingressClassName":                       `IngressClass "ngnix" does not exist; no controller serves this Ingress`,
	} {
		if msgs[k] != v {
			t.Errorf("%s: message %q, want %q", k, msgs[k], v)
		}
	}
}

// A file with no Services does not report every backend missing, unless
// references are strict.
func TestLintRefsOnlyWhenExpected(t *testing.T) {
	objs := load(t, "testdata/bad/conflict.yaml")
	if got := summary(Lint(objs, opts)); len(got) != 1 || !strings.Contains(got[0], "PathConflict") {
		t.Errorf("lenient refs: %v", got)
	}
	strict := opts
	strict.StrictRefs = true
	got := summary(Lint(objs, strict))
	want := []string{
		"Warning | Ingress lab/a-first | spec.rules[0].http.paths[0].backend.service | BackendNotFound",
		"Warning | Ingress lab/b-second | spec.rules[0].http.paths[0] | PathConflict",
		"Warning | Ingress lab/b-second | spec.rules[0].http.paths[0].backend.service | BackendNotFound",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("strict refs (-want +got):\n%s", diff)
	}
}

// A partly supported annotation or ConfigMap key in use gets a note saying
// how Portico differs, from the registries; a field with a finding gets
// none; notes do not fail the run.
func TestLintNotesPartlySupported(t *testing.T) {
	const manifests = `
apiVersion: v1
kind: ConfigMap
metadata: {name: portico, namespace: ingress-nginx}
data: {server-tokens: "false", jaeger-collector-host: "jaeger", hsts: "true"}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sticky
  annotations:
    nginx.ingress.kubernetes.io/mirror-target: http://mirror.example$request_uri
spec:
  ingressClassName: nginx
  rules:
  - host: sticky.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: lax
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-samesite: relaxed
spec:
  ingressClassName: nginx
  rules:
  - host: lax.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}
`
	objs := &Objects{}
	if err := objs.Decode(strings.NewReader(manifests), "x.yaml", "lab"); err != nil {
		t.Fatal(err)
	}
	o := opts
	o.ConfigMap = "ingress-nginx/portico"
	r := Lint(objs, o)
	const prefix = "metadata.annotations[nginx.ingress.kubernetes.io/"
	want := []string{
		"Warning | ConfigMap ingress-nginx/portico | data[jaeger-collector-host] | UnsupportedOption",
		"Info | ConfigMap ingress-nginx/portico | data[server-tokens] | PartlySupported",
		"Error | Ingress lab/lax |  | IngressRejected",
		"Error | Ingress lab/lax | " + prefix + "session-cookie-samesite] | InvalidAnnotation",
		"Info | Ingress lab/sticky | " + prefix + "mirror-target] | PartlySupported",
	}
	if diff := cmp.Diff(want, summary(r)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	for _, d := range r.Diagnostics {
		var differs string
		switch d.Field {
		case "data[server-tokens]":
			k, _ := model.LookupConfigKey("server-tokens")
			differs = "partly supported by Portico: " + k.Differs + " (docs/configmap.md)"
		case prefix + "mirror-target]":
			e, _ := annotations.Lookup("mirror-target")
			differs = "partly supported by Portico: " + e.Differs + " (docs/annotations.md)"
		case "data[jaeger-collector-host]":
			k, _ := model.LookupConfigKey("jaeger-collector-host")
			differs = "option is not supported by Portico and is ignored: " + k.Differs
		default:
			continue
		}
		if d.Message != differs {
			t.Errorf("%s: message %q, want %q", d.Field, d.Message, differs)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	o := &Objects{}
	err := o.Decode(strings.NewReader("kind: Ingress\napiVersion: networking.k8s.io/v1\n---\n: : bad\n"), "x.yaml", "default")
	if err == nil || !strings.Contains(err.Error(), "x.yaml: document 2") {
		t.Errorf("error %v, want one naming x.yaml document 2", err)
	}
	o = &Objects{}
	if err := o.Decode(strings.NewReader("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n"), "a.yaml", "team"); err != nil {
		t.Fatal(err)
	}
	if len(o.Ingresses) != 1 || o.Ingresses[0].Namespace != "team" {
		t.Errorf("namespace not defaulted: %+v", o.Ingresses)
	}
}
