package model

import (
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// GlobalHeaders are the headers the ConfigMap adds to every answer and
// every proxied request, and those of backends' answers it hides or
// passes.
type GlobalHeaders struct {
	// Response are set on every answer, replacing a backend's of the same
	// name, from the ConfigMap add-headers names; sorted by name.
	Response []Header `json:"response,omitempty"`
	// Request are sent to every backend, from the ConfigMap
	// proxy-set-headers names; sorted by name. One named as a header
	// Portico sends (X-Forwarded-For, X-Request-ID...) takes its place.
	// The Values of both may name variables (valid in a log format) and
	// hold '"', which nginx.conf prints escaped.
	Request []Header `json:"request,omitempty"`
	// Hide are backend answer headers not passed to clients (hide-headers).
	Hide []string `json:"hide,omitempty"`
	// BackendServer passes the backend's Server header to clients
	// (allow-backend-server-header).
	BackendServer bool `json:"backendServer,omitempty"`
	// OriginalURI sends backends X-Original-URI, the request URI as the
	// client sent it (proxy-add-original-uri-header).
	OriginalURI bool `json:"originalURI,omitempty"`
}

// headerName is a header name a ConfigMap may set: an RFC 9110 token of
// the characters a ConfigMap key may hold.
var headerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// headerLiteral is what a header value holds besides variables: printable
// ASCII but the backslash ('"' is printed escaped).
var headerLiteral = regexp.MustCompile(`^[ -\[\]-~]*$`)

// framingHeaders are headers that frame a message or a connection, which
// nginx sets itself: the ConfigMap may not.
var framingHeaders = []string{"connection", "content-length", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}

// checkHeader returns what header name: value must look like, or "".
// Values may name the variables a log format may (validated as there). A
// request header may not be Host (upstream-vhost sets it per Ingress).
func checkHeader(name, value string, request bool) string {
	if !headerName.MatchString(name) {
		return "a header name of letters, digits and ._-"
	}
	if slices.Contains(framingHeaders, strings.ToLower(name)) || request && strings.EqualFold(name, "host") {
		return "a header nginx does not set itself (not Host, " + strings.Join(framingHeaders, ", ") + ")"
	}
	if len(value) > 4096 {
		return "a value of at most 4096 characters"
	}
	if _, want := splitVariables(value, headerLiteral, "printable ASCII but \\, and nginx variables ($name or ${name})"); want != "" {
		return want
	}
	return ""
}

// configMapRef is a ConfigMap reference: namespace/name.
var configMapRef = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)

// headerMapKeys are the keys whose value names a ConfigMap of headers.
var headerMapKeys = []string{"add-headers", "proxy-set-headers"}

// ReferencedConfigMaps are the ConfigMaps the controller's ConfigMap cm
// names (add-headers, proxy-set-headers) as namespace/name, sorted: the
// controller watches them too.
func ReferencedConfigMaps(cm *corev1.ConfigMap) []string {
	if cm == nil {
		return nil
	}
	var out []string
	for _, k := range headerMapKeys {
		if v := cm.Data[k]; configMapRef.MatchString(v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// headerMapOption parses add-headers or proxy-set-headers: a reference to
// a ConfigMap whose keys are header names and values their values. A
// header that does not parse is left out with a warning; the others
// apply. A ConfigMap that does not exist (yet) is a warning and adds
// none.
func headerMapOption(key string, request bool, field func(*globalBuild) *[]Header) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		if !configMapRef.MatchString(v) {
			return "a ConfigMap as namespace/name"
		}
		hs := field(b)
		*hs = nil
		f := "data[" + key + "]"
		cm := b.configMaps[v]
		if cm == nil {
			b.warnings = append(b.warnings, diag.Warnf(f, "ConfigMapNotFound", "ConfigMap %s does not exist (or Portico may not read it); no headers from it", v))
			return ""
		}
		names := make([]string, 0, len(cm.Data))
		for n := range cm.Data {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if want := checkHeader(n, cm.Data[n], request); want != "" {
				b.warnings = append(b.warnings, diag.Warnf(f, "InvalidHeader", "ConfigMap %s: data[%s] %s is left out: want %s",
					v, truncate(n), quote(cm.Data[n]), want))
				continue
			}
			*hs = append(*hs, Header{Name: n, Value: cm.Data[n]})
		}
		return ""
	}
}

// parseHeaderNames parses hide-headers: comma-separated header names.
func parseHeaderNames(v string) ([]string, bool) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !headerName.MatchString(f) {
			return nil, false
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, f) }) {
			out = append(out, f)
		}
	}
	return out, len(out) > 0 && len(out) <= 128
}

// forwardedForOption parses forwarded-for-header: the header the client
// address is taken from (real_ip_header).
func forwardedForOption(v string, b *globalBuild) string {
	if !headerName.MatchString(v) || strings.EqualFold(v, "proxy_protocol") {
		return "a header name of letters, digits and ._-"
	}
	b.forwardedForHeader = v
	return ""
}
