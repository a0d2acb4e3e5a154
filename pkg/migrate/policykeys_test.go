package migrate

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The ConfigMap's defaults of per-Ingress settings, security policy keys
// and snippets carry over; a key ingress-nginx removed is reported with
// what replaced it.
func TestAnalyzePolicyKeys(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"},
		Data: map[string]string{
			"whitelist-source-range": "10.0.0.0/8",
			"proxy-buffering":        "on",
			"block-user-agents":      "~*bot",
			"http-snippet":           "map $http_x $y { default 0; }",
			"zipkin-collector-host":  "zipkin.tracing",
			"limit-rate":             "fast",
		}}
	r := Analyze(Input{ConfigMap: cm})
	got := map[string]Item{}
	for _, o := range r.Objects {
		for _, it := range o.Items {
			got[it.Field] = it
		}
	}
	for field, want := range map[string]struct {
		status Status
		detail string
	}{
		"data[whitelist-source-range]": {Unchanged, ""},
		"data[block-user-agents]":      {Unchanged, ""},
		"data[http-snippet]":           {Unchanged, ""},
		"data[proxy-buffering]":        {Differs, "ingress-nginx's default is `off`"},
		"data[zipkin-collector-host]":  {Unsupported, "OpenTelemetry replaced it"},
		"data[limit-rate]":             {Differs, "Portico refuses it: InvalidOption"},
	} {
		it, ok := got[field]
		if !ok {
			t.Errorf("%s: not reported", field)
			continue
		}
		if it.Status != want.status || !strings.Contains(it.Detail, want.detail) {
			t.Errorf("%s: %s %q, want %s with %q", field, it.Status, it.Detail, want.status, want.detail)
		}
	}
}
