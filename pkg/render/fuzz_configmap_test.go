package render

import (
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// ConfigMaps that annotations name reach nginx.conf too: the headers of
// custom-headers (more_set_headers) and the parameters of
// fastcgi-params-configmap (fastcgi_param).

// configMapInput is an Ingress whose annotation (custom-headers, or
// fastcgi-params-configmap with backend-protocol FCGI) names a ConfigMap
// of one key and value.
func configMapInput(fastcgi bool, key, value string) model.Input {
	ann := map[string]string{"custom-headers": "fz"}
	if fastcgi {
		ann = map[string]string{"backend-protocol": "FCGI", "fastcgi-params-configmap": "fz"}
	}
	pfx := networkingv1.PathTypePrefix
	in := httpInput(map[string]string{"annotations-risk-level": "Critical", "global-allowed-response-headers": "X-A," + key},
		httpIngress("fuzz", "f.example.com", ann, pfx, "/f"),
		httpIngress("other", "o.example.com", nil, pfx, "/"))
	in.ConfigMaps = append(in.ConfigMaps, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "fz"},
		Data: map[string]string{key: value}})
	return in
}

var (
	configMapOnce    sync.Once
	configMapAllowed map[bool]map[string]bool // fastcgi -> skeletons
	configMapErr     error
)

// configMapSkeletons are the skeletons of a valid key and value, and of
// the Ingress refused, for each of the two annotations.
func configMapSkeletons() (map[bool]map[string]bool, error) {
	configMapOnce.Do(func() {
		configMapAllowed = map[bool]map[string]bool{}
		for _, fastcgi := range []bool{false, true} {
			configMapAllowed[fastcgi] = map[string]bool{}
			for _, kv := range [][2]string{{"X-A", "a"}, {"", ""}} {
				sk, cfg, err := skeletonOf(configMapInput(fastcgi, kv[0], kv[1]))
				if err != nil {
					configMapErr = err
					return
				}
				if refused := kv[0] == ""; refused != diag.HasError(cfg.Diagnostics) {
					configMapErr = fmt.Errorf("reference %q=%q refused %v: %v", kv[0], kv[1], refused, cfg.Diagnostics)
					return
				}
				configMapAllowed[fastcgi][sk] = true
			}
		}
	})
	return configMapAllowed, configMapErr
}

// FuzzConfigMapValues gives the one key of a custom-headers or
// fastcgi-params-configmap ConfigMap an arbitrary name and value, and
// checks that nginx.conf parses and has the directive structure of a
// valid one or of the Ingress refused: no value adds a directive, a block
// or an include.
func FuzzConfigMapValues(f *testing.F) {
	for _, fastcgi := range []bool{false, true} {
		for _, v := range append(fuzzPayloads, "a", `"q" \ $x ; {b} #c`, "$document_root$fastcgi_script_name", "${request_uri}") {
			f.Add(fastcgi, "X-A", v)
		}
		f.Add(fastcgi, "X-A;more_set_headers", "a")
		f.Add(fastcgi, "X A", "a")
	}
	f.Fuzz(func(t *testing.T, fastcgi bool, key, value string) {
		want, err := configMapSkeletons()
		if err != nil {
			t.Fatal(err)
		}
		sk, cfg, err := skeletonOf(configMapInput(fastcgi, key, value))
		if err != nil {
			t.Fatalf("%q=%q: %v", key, value, err)
		}
		if !want[fastcgi][sk] {
			t.Fatalf("%q=%q renders a directive structure no reference has:\n%s\ndiagnostics: %v", key, value, sk, cfg.Diagnostics)
		}
	})
}
