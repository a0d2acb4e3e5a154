package model

import (
	"fmt"
	"regexp"
	"strings"
)

// dnsLabel is an RFC 1123 label, lower case as the Ingress API requires.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// parseHost validates an Ingress rule host: a DNS-1123 subdomain, or one
// prefixed by "*." for a wildcard. IP addresses are not hosts, as in the API.
func parseHost(h string) (string, error) {
	if len(h) > 253 {
		return "", fmt.Errorf("host is longer than 253 characters")
	}
	name := strings.TrimPrefix(h, "*.")
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if !dnsLabel.MatchString(l) {
			return "", fmt.Errorf("host %q is not a lower-case DNS name (optionally prefixed with \"*.\")", truncate(h))
		}
	}
	if !strings.HasPrefix(h, "*.") && len(labels) == 4 && allNumeric(labels) {
		return "", fmt.Errorf("host %q is an IP address; Ingress hosts are names", h)
	}
	return h, nil
}

func allNumeric(labels []string) bool {
	for _, l := range labels {
		if strings.Trim(l, "0123456789") != "" {
			return false
		}
	}
	return true
}

// truncate shortens user input repeated in messages.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
