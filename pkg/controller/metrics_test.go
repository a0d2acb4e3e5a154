package controller

import "testing"

func TestReloadReason(t *testing.T) {
	tests := []struct {
		running bool
		reasons []string
		want    string
	}{
		{false, []string{"Ingress a/b added"}, "start"},
		{true, []string{"ConfigMap ingress-nginx/c updated", "Ingress a/b added", "Ingress a/c deleted", "and 12 more changes"}, "ConfigMap+Ingress"},
		{true, []string{"retry after error"}, "retry"},
		{true, nil, "other"},
	}
	for _, tc := range tests {
		if got := reloadReason(tc.running, tc.reasons); got != tc.want {
			t.Errorf("reloadReason(%v, %q) = %q, want %q", tc.running, tc.reasons, got, tc.want)
		}
	}
}
