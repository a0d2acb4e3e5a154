package controller

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// The webhook reviews networking.k8s.io/v1 Ingresses only: every other
// kind, group, version or object is denied with a message, a review it
// cannot read answered 400, whatever the request carries.
func TestAdmitRefusesWhatItDoesNotReview(t *testing.T) {
	c := &Controller{log: zap.NewNop()}
	snippet := `"metadata":{"name":"x","annotations":{"nginx.ingress.kubernetes.io/configuration-snippet":"} location /x {"}}`
	review := func(group, version, kind, op, object string) string {
		return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"` + group +
			`","version":"` + version + `","kind":"` + kind + `"},"operation":"` + op + `","namespace":"default","object":` + object + `}}`
	}
	tests := []struct {
		name, body string
		code       int    // HTTP status
		allowed    bool   // with code 200
		msg        string // in the denial
	}{
		{"ConfigMap", review("", "v1", "ConfigMap", "CREATE", `{"apiVersion":"v1","kind":"ConfigMap",`+snippet+`}`), 200, false, "not v1 ConfigMap"},
		{"IngressClass", review("networking.k8s.io", "v1", "IngressClass", "CREATE", `{`+snippet+`}`), 200, false, "not networking.k8s.io/v1 IngressClass"},
		{"extensions/v1beta1 Ingress", review("extensions", "v1beta1", "Ingress", "CREATE", `{`+snippet+`}`), 200, false, "not extensions/v1beta1 Ingress"},
		{"networking.k8s.io/v1beta1 Ingress", review("networking.k8s.io", "v1beta1", "Ingress", "UPDATE", `{`+snippet+`}`), 200, false, "Ingresses only"},
		{"v1 Ingress holding a ConfigMap", review("networking.k8s.io", "v1", "Ingress", "CREATE", `{"apiVersion":"v1","kind":"ConfigMap",`+snippet+`}`), 200, false, "is a v1 ConfigMap"},
		{"v1 Ingress holding a list", review("networking.k8s.io", "v1", "Ingress", "CREATE", `[1]`), 200, false, "not an Ingress"},
		{"v1 Ingress deleted", review("networking.k8s.io", "v1", "Ingress", "DELETE", `null`), 200, true, ""},
		{"v1beta1 review", strings.Replace(review("networking.k8s.io", "v1", "Ingress", "CREATE", `{}`), "admission.k8s.io/v1", "admission.k8s.io/v1beta1", 1), 400, false, ""},
		{"no request", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, 400, false, ""},
		{"not JSON", `} location /x {`, 400, false, ""},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		c.admit(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body)))
		if rec.Code != tc.code {
			t.Errorf("%s: HTTP %d, want %d: %s", tc.name, rec.Code, tc.code, rec.Body)
			continue
		}
		if tc.code != 200 {
			continue
		}
		var out struct {
			Response struct {
				UID     string `json:"uid"`
				Allowed bool   `json:"allowed"`
				Status  struct {
					Message string `json:"message"`
				} `json:"status"`
			} `json:"response"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %v: %s", tc.name, err, rec.Body)
		}
		if out.Response.UID != "u" || out.Response.Allowed != tc.allowed || !strings.Contains(out.Response.Status.Message, tc.msg) {
			t.Errorf("%s: %s, want allowed %v and a message with %q", tc.name, rec.Body, tc.allowed, tc.msg)
		}
	}
}
