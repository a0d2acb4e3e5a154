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

func TestServiceOfAndChecksumNumber(t *testing.T) {
	for in, want := range map[string]string{"lab/api-service:80": "api-service", "lab/web:http": "web", "odd": "odd"} {
		if got := serviceOf(in); got != want {
			t.Errorf("serviceOf(%q) = %q, want %q", in, got, want)
		}
	}
	if got := checksumNumber("00000000000ffabc"); got != 0xff {
		t.Errorf("checksumNumber = %v, want 255 (the first 13 hex digits)", got)
	}
	if got := checksumNumber("xyz"); got != 0 {
		t.Errorf("checksumNumber of garbage = %v", got)
	}
}
