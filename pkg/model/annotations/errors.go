package annotations

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameCustomHTTPErrors = "custom-http-errors"
	nameDefaultBackend   = "default-backend"
)

var serviceName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ParseHTTPErrors parses a comma-separated list of status codes from 400
// to 599; the ConfigMap key custom-http-errors shares it.
func ParseHTTPErrors(v string) ([]int, bool) {
	var out []int
	seen := map[int]bool{}
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 400 || n > 599 {
			return nil, false
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, len(out) > 0
}

func parseCustomHTTPErrors(a Annotations) ([]int, []diag.Diagnostic) {
	v, ok := a.lookup(nameCustomHTTPErrors)
	if !ok {
		return nil, nil
	}
	codes, ok := ParseHTTPErrors(v)
	if !ok {
		return nil, invalid(nameCustomHTTPErrors, v, "want a comma-separated list of status codes from 400 to 599")
	}
	return codes, nil
}

// parseDefaultBackend parses default-backend: a Service name in the
// Ingress's namespace.
func parseDefaultBackend(a Annotations) (string, []diag.Diagnostic) {
	v, ok := a.lookup(nameDefaultBackend)
	if !ok {
		return "", nil
	}
	if !serviceName.MatchString(v) {
		return "", invalid(nameDefaultBackend, v, "want a Service name in the Ingress's namespace")
	}
	return v, nil
}
