package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const (
	nameEnableOpenTelemetry = "enable-opentelemetry"
	nameTrustIncomingSpan   = "opentelemetry-trust-incoming-span"
)

// Tracing is what an Ingress's OpenTelemetry annotations ask: Enable with
// EnableSet (given: "false" turns the ConfigMap's off), and Trust, when
// set, in place of the ConfigMap's opentelemetry-trust-incoming-span.
type Tracing struct {
	Enable    bool  `json:"enable,omitempty"`
	EnableSet bool  `json:"enableSet,omitempty"`
	Trust     *bool `json:"trust,omitempty"`
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
	if !set && !trustSet {
		return nil, ds
	}
	return &t, ds
}
