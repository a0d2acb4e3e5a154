package annotations

import (
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

func TestParseSpanName(t *testing.T) {
	for _, v := range []string{
		"checkout", "HTTP $request_method $service_name $uri", "HTTP $request_method $uri", "${namespace}/${ingress_name}$location_path",
		"$scheme://$host$request_uri", "$server_name $status", "a-b_c.d:e,f@g+h=(i)[j]", "",
	} {
		if n, want := ParseSpanName(v); want != "" || string(n) != v {
			t.Errorf("%q: %q, want %q", v, want, v)
		}
	}
	for _, v := range []string{
		"$remote_addr", "$http_authorization", "$uri_x", "$", "${uri", "${}", "$1", "a\"b", `a\b`, "a;b", "a{b", "a}b", "a'b",
		"a\nb", "a\tb", "a#b", "é", string(make([]byte, 257)),
	} {
		if n, want := ParseSpanName(v); want == "" || n != "" {
			t.Errorf("%q taken as %q", v, n)
		}
	}
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'a'
	}
	if _, want := ParseSpanName(string(long)); want != "" {
		t.Errorf("256 characters refused: %s", want)
	}
}

func TestSpanNameRouteLabels(t *testing.T) {
	for v, want := range map[string]bool{
		"HTTP $request_method $service_name $uri": false, "$location_path": true, "${namespace}": true, "x $ingress_name": true,
		"$server_name": true, "$host": false, "checkout": false,
	} {
		if got := SpanName(v).RouteLabels(); got != want {
			t.Errorf("%q: %t, want %t", v, got, want)
		}
	}
}

// The annotation applies only beside enable-opentelemetry "true", as in
// ingress-nginx; a value outside the grammar refuses the Ingress.
func TestOperationNameAnnotation(t *testing.T) {
	set, ds := Parse(Annotations{Prefix + nameEnableOpenTelemetry: "true", Prefix + nameOperationName: "HTTP $uri"})
	if len(ds) != 0 || set.Tracing == nil || set.Tracing.OperationName != "HTTP $uri" {
		t.Errorf("with enable-opentelemetry: %+v %v", set.Tracing, ds)
	}
	for _, en := range []string{"", "false"} {
		a := Annotations{Prefix + nameOperationName: "HTTP $uri"}
		if en != "" {
			a[Prefix+nameEnableOpenTelemetry] = en
		}
		set, ds := Parse(a)
		if set.Tracing != nil && set.Tracing.OperationName != "" || len(ds) != 1 || ds[0].Reason != "SpanNameIgnored" || ds[0].Severity != diag.Warning {
			t.Errorf("enable-opentelemetry %q: %+v %v, want the name ignored with a Warning", en, set.Tracing, ds)
		}
	}
	_, ds = Parse(Annotations{Prefix + nameEnableOpenTelemetry: "true", Prefix + nameOperationName: "$remote_addr"})
	if !diag.HasError(ds) || ds[0].Reason != "InvalidAnnotation" || !strings.Contains(ds[0].Message, `: want letters, digits`) {
		t.Errorf("$remote_addr: %v, want InvalidAnnotation", ds)
	}
}
