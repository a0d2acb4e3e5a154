package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const (
	nameEnableOpenTelemetry = "enable-opentelemetry"
	nameTrustIncomingSpan   = "opentelemetry-trust-incoming-span"
)

// Tracing is what an Ingress's OpenTelemetry annotations ask: Enable with
// EnableSet (given: "false" turns the ConfigMap's off), Trust, when set,
// in place of the ConfigMap's opentelemetry-trust-incoming-span, and
// OperationName, when set, in place of the ConfigMap's
// opentelemetry-operation-name.
type Tracing struct {
	Enable        bool     `json:"enable,omitempty"`
	EnableSet     bool     `json:"enableSet,omitempty"`
	Trust         *bool    `json:"trust,omitempty"`
	OperationName SpanName `json:"operationName,omitempty"`
}

func parseTracing(a Annotations) (*Tracing, []diag.Diagnostic) {
	var t Tracing
	en, set, ds := parseBool(a, nameEnableOpenTelemetry)
	t.Enable, t.EnableSet = en, set
	trust, trustSet, d := parseBool(a, nameTrustIncomingSpan)
	ds = append(ds, d...)
	if trustSet {
		t.Trust = &trust
	}
	if v, ok := a.lookup(nameOperationName); ok {
		n, want := ParseSpanName(v)
		switch {
		case want != "":
			ds = append(ds, invalid(nameOperationName, v, "want "+want)...)
		case !t.Enable:
			// ingress-nginx reads the name only beside
			// enable-opentelemetry: "true".
			ds = append(ds, diag.Warnf(field(nameOperationName), "SpanNameIgnored",
				`the span name applies only with enable-opentelemetry: "true" on the Ingress, as in ingress-nginx`))
		default:
			t.OperationName = n
		}
	}
	if !set && !trustSet {
		return nil, ds
	}
	return &t, ds
}
