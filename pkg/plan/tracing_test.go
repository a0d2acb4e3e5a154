package plan

import (
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// A location traces as ingress-nginx decides: its annotation, else the
// ConfigMap; its trust, else the ConfigMap's.
func TestPropagation(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		name string
		g    model.Tracing
		t    *annotations.Tracing
		want string
	}{
		{"off", model.Tracing{TrustIncoming: true}, nil, ""},
		{"global", model.Tracing{On: true, TrustIncoming: true}, nil, `require("portico.tracing").propagate(true)`},
		{"global untrusted", model.Tracing{On: true}, nil, `require("portico.tracing").propagate(false)`},
		{"annotation off", model.Tracing{On: true, TrustIncoming: true}, &annotations.Tracing{EnableSet: true}, ""},
		{"annotation on", model.Tracing{TrustIncoming: true}, &annotations.Tracing{Enable: true, EnableSet: true}, `require("portico.tracing").propagate(true)`},
		{"annotation trust off", model.Tracing{On: true, TrustIncoming: true}, &annotations.Tracing{Trust: &no}, `require("portico.tracing").propagate(false)`},
		{"annotation trust on", model.Tracing{On: true}, &annotations.Tracing{Trust: &yes}, `require("portico.tracing").propagate(true)`},
	} {
		if got := propagation(c.g, c.t); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// The workers' configuration is printed only when something traces, with
// the export when a collector is set.
func TestTraceConfig(t *testing.T) {
	g := model.Tracing{Sampler: "TraceIdRatioBased", Ratio: 0.25, ParentBased: true}
	m := &model.Config{Global: model.Global{Tracing: g}, Servers: []*model.Server{{Host: "a.example", Locations: []*model.Location{{Path: "/"}}}}}
	if got := traceConfigOf(m); got != "" {
		t.Fatalf("nothing traces: %q", got)
	}
	m.Servers[0].Locations[0].Tracing = &annotations.Tracing{Enable: true, EnableSet: true}
	if got, want := traceConfigOf(m), `{sampler = "TraceIdRatioBased", ratio = 0.25, parent_based = true}`; got != want {
		t.Fatalf("an annotation traces: %q, want %q", got, want)
	}
	m.Global.Tracing.Export = &model.SpanExport{Host: "otel.example", Port: 4318, Service: "edge", DelayMillis: 200, Batch: 10, Queue: 100}
	if got, want := traceConfigOf(m), `{sampler = "TraceIdRatioBased", ratio = 0.25, parent_based = true, export = {host = "otel.example", port = 4318, service = "edge", delay = 200, batch = 10, queue = 100}}`; got != want {
		t.Fatalf("with a collector: %q, want %q", got, want)
	}
}

// A location's span is named by its annotation, else by the name the
// workers were configured with (the ConfigMap's).
func TestSpanNames(t *testing.T) {
	on := model.Tracing{On: true, OperationName: "HTTP $request_method $uri"}
	for _, c := range []struct {
		name string
		g    model.Tracing
		t    *annotations.Tracing
		want string
	}{
		{"off", model.Tracing{OperationName: "x"}, nil, ""},
		{"the configured name", on, nil, `require("portico.tracing").finish()`},
		{"the annotation's", on, &annotations.Tracing{Enable: true, EnableSet: true, OperationName: "${namespace}/$ingress_name"},
			`require("portico.tracing").finish("${namespace}/$ingress_name")`},
		{"the annotation's tracing off", on, &annotations.Tracing{EnableSet: true, OperationName: "x"}, ""},
		{"no name: the location's", model.Tracing{On: true}, nil, `require("portico.tracing").finish(nil, "/api/")`},
		{"no name: the annotation's tracing, the location's", model.Tracing{}, &annotations.Tracing{Enable: true, EnableSet: true},
			`require("portico.tracing").finish(nil, "/api/")`},
	} {
		if got := finish(c.g, c.t, &model.Location{Path: "/api/"}); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	regex := &model.Location{Modifier: model.ModRegex, Path: `^/api/v[0-9]+\.json$`}
	if got, want := finish(model.Tracing{On: true}, nil, regex), `require("portico.tracing").finish(nil, "^/api/v[0-9]+\\.json$")`; got != want {
		t.Errorf("a regex location: %q, want %q", got, want)
	}
	m := &model.Config{Global: model.Global{Tracing: on}}
	if got, want := traceConfigOf(m), `{sampler = "", ratio = 0, parent_based = false, name = "HTTP $request_method $uri"}`; got != want {
		t.Errorf("the ConfigMap's name: %q, want %q", got, want)
	}
	// Without a name, the router names the spans of routed hosts.
	m.Global.Tracing = model.Tracing{On: true, Export: &model.SpanExport{Host: "10.0.0.1", Port: 4318, Service: "nginx", DelayMillis: 1, Batch: 1, Queue: 1}}
	if got, want := traceConfigOf(m), `{sampler = "", ratio = 0, parent_based = false, export = {host = "10.0.0.1", port = 4318, service = "nginx", delay = 1, batch = 1, queue = 1}, route_locations = true}`; got != want {
		t.Errorf("no name: %q, want %q", got, want)
	}
}
