package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const (
	nameUsePortInRedirects    = "use-port-in-redirects"
	nameRelativeRedirects     = "relative-redirects"
	namePreserveTrailingSlash = "preserve-trailing-slash"
)

// RedirectForm is how the redirects of an Ingress's locations are
// written: the redirect to HTTPS, which Portico builds, and those nginx
// makes absolute itself (a permanent-redirect to a path).
type RedirectForm struct {
	// Port (use-port-in-redirects) names the HTTPS port in the redirect
	// to HTTPS, and the port the request came to in nginx's own
	// (port_in_redirect on); false leaves the port out of both.
	Port bool `json:"port,omitempty"`
	// Relative (relative-redirects) leaves a redirect to a path relative
	// (absolute_redirect off).
	Relative bool `json:"relative,omitempty"`
	// KeepTrailingSlash (preserve-trailing-slash) keeps a trailing '/' of
	// the request URI in the redirect to HTTPS, which drops it otherwise.
	KeepTrailingSlash bool `json:"keepTrailingSlash,omitempty"`
}

// parseRedirectForm parses use-port-in-redirects, relative-redirects and
// preserve-trailing-slash: each "true" or "false" (strconv.ParseBool's
// spellings, as ingress-nginx reads them), false when unset.
func parseRedirectForm(a Annotations) (RedirectForm, []diag.Diagnostic) {
	var f RedirectForm
	var ds []diag.Diagnostic
	for _, b := range []struct {
		name string
		dst  *bool
	}{{nameUsePortInRedirects, &f.Port}, {nameRelativeRedirects, &f.Relative}, {namePreserveTrailingSlash, &f.KeepTrailingSlash}} {
		v, _, d := parseBool(a, b.name)
		*b.dst = v
		ds = append(ds, d...)
	}
	return f, ds
}
