package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// The ModSecurity keys: modsecurity-snippet is a snippet, taken only once
// the operator allows snippets, and must stay one single-quoted argument.
func TestConfigMapModSecurity(t *testing.T) {
	allowed := map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical", "enable-modsecurity": "true",
		"enable-owasp-modsecurity-crs": "true"}
	for _, c := range []struct {
		rules, want string
		refused     bool
		gate        bool
	}{
		{rules: "SecRuleEngine On", want: "SecRuleEngine On"},
		{rules: `SecRule REQUEST_HEADERS:User-Agent \"block-ua\" \"log,deny,id:107,status:403,msg:\'UA blocked\'\"`,
			want: `SecRule REQUEST_HEADERS:User-Agent \"block-ua\" \"log,deny,id:107,status:403,msg:\'UA blocked\'\"`},
		{rules: "SecRuleEngine On';\n  include /etc/passwd; #", refused: true},
		{rules: `SecRuleEngine On\`, refused: true},
		{rules: "SecRuleEngine On", gate: true, refused: true},
	} {
		data := map[string]string{"modsecurity-snippet": c.rules, "enable-modsecurity": "true"}
		if !c.gate {
			for k, v := range allowed {
				data[k] = v
			}
		}
		g, _, ds := parseConfigMapKeeping(configMap(data), nil, configRefs{})
		if got := diag.HasError(ds); got != c.refused {
			t.Errorf("%q (snippets allowed %v): refused %v, want %v: %v", c.rules, !c.gate, got, c.refused, ds)
		}
		if string(g.WAF.Rules) != c.want || !g.WAF.On {
			t.Errorf("%q: WAF %+v, want on with rules %q", c.rules, g.WAF, c.want)
		}
	}
}

// The tracing keys: ingress-nginx's defaults but the OTLP/HTTP port; a
// collector host enables the export.
func TestConfigMapTracing(t *testing.T) {
	g, _, ds := parseConfigMapKeeping(configMap(map[string]string{"enable-opentelemetry": "true"}), nil, configRefs{})
	if len(ds) != 0 || g.Tracing != (Tracing{On: true, TrustIncoming: true, Sampler: "AlwaysOn", Ratio: 0.01, ParentBased: true}) {
		t.Fatalf("defaults: %+v %v", g.Tracing, ds)
	}
	g, _, ds = parseConfigMapKeeping(configMap(map[string]string{"enable-opentelemetry": "true", "otlp-collector-host": "otel.monitoring.svc",
		"otel-service-name": "edge", "otel-sampler": "TraceIdRatioBased", "otel-sampler-ratio": "0.5", "opentelemetry-trust-incoming-span": "false"}), nil, configRefs{})
	want := &SpanExport{Host: "otel.monitoring.svc", Port: 4318, Service: "edge", DelayMillis: 5000, Batch: 512, Queue: 2048}
	if len(ds) != 0 || !cmp.Equal(g.Tracing.Export, want) || g.Tracing.Ratio != 0.5 || g.Tracing.TrustIncoming {
		t.Fatalf("export: %+v %+v %v", g.Tracing, g.Tracing.Export, ds)
	}
	g, _, ds = parseConfigMapKeeping(configMap(map[string]string{"opentelemetry-operation-name": "HTTP $request_method $service_name $uri"}), nil, configRefs{})
	if len(ds) != 0 || g.Tracing.OperationName != "HTTP $request_method $service_name $uri" {
		t.Fatalf("operation name: %+v %v", g.Tracing, ds)
	}
	for k, v := range map[string]string{"otlp-collector-host": `a"; os.exit()`, "otel-service-name": `x" }`, "otel-sampler": "Sometimes",
		"otel-sampler-ratio": "2", "otlp-collector-port": "0", "opentelemetry-operation-name": `HTTP $remote_addr`} {
		_, _, ds := parseConfigMapKeeping(configMap(map[string]string{k: v}), nil, configRefs{})
		if !diag.HasError(ds) || !strings.Contains(fmt.Sprint(ds), "data["+k+"]") {
			t.Errorf("%s=%q accepted: %v", k, v, ds)
		}
	}
}

// The ModSecurity annotations parse as ingress-nginx's; a transaction id
// outside its grammar is refused.
func TestModSecurityAnnotations(t *testing.T) {
	set, ds := annotations.Parse(annotations.Annotations{annotations.Prefix + "enable-modsecurity": "false",
		annotations.Prefix + "modsecurity-transaction-id": "$request_id-x"})
	if len(ds) != 0 || set.ModSecurity == nil || set.ModSecurity.Enable || !set.ModSecurity.EnableSet || set.ModSecurity.TransactionID != "$request_id-x" {
		t.Fatalf("%+v %v", set.ModSecurity, ds)
	}
	for _, v := range []string{`$request_id"; return 200; #`, "a b", "${x"} {
		if _, ds := annotations.Parse(annotations.Annotations{annotations.Prefix + "modsecurity-transaction-id": v}); !diag.HasError(ds) {
			t.Errorf("transaction id %q accepted", v)
		}
	}
}

// use-geoip2 makes the mounted databases the config's data files.
func TestGeoIP2DataFiles(t *testing.T) {
	dbs := []string{"/geo/GeoLite2-City.mmdb", "/geo/GeoLite2-ASN.mmdb"}
	in := Input{Options: Options{GeoIP2Databases: dbs}}
	if m := Build(in); len(m.DataFiles) != 0 {
		t.Fatalf("without use-geoip2: data files %q", m.DataFiles)
	}
	in.ConfigMap = configMap(map[string]string{"use-geoip2": "true"})
	if m := Build(in); !cmp.Equal(m.DataFiles, []string{"/geo/GeoLite2-ASN.mmdb", "/geo/GeoLite2-City.mmdb"}) {
		t.Fatalf("with use-geoip2: data files %q", m.DataFiles)
	}
}
