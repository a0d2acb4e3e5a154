package model

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Global auth: the ConfigMap's global-auth-url and its family name an auth
// service every Ingress path asks, unless the path has its own auth-url,
// its Ingress opts out (enable-global-auth: "false") or it starts with one
// of no-auth-locations, as in ingress-nginx.

// globalAuthBuild holds the global-auth-* values while the ConfigMap is
// parsed; finish makes Global.Auth of them.
type globalAuthBuild struct {
	url             *annotations.URL
	method          string
	signin          *annotations.Signin
	signinParam     string
	responseHeaders []annotations.AuthHeader
	requestRedirect annotations.Template
	snippet         annotations.Snippet
	cacheKey        annotations.Template
	cacheValid      []string
	alwaysSetCookie bool
}

// defaultNoAuthLocations is no-auth-locations' default: an ACME HTTP-01
// solver's paths (cert-manager's) answer without auth.
var defaultNoAuthLocations = []string{"/.well-known/acme-challenge"}

// finish sets g.Auth: nil without global-auth-url.
func (a *globalAuthBuild) finish(g *Global) {
	if a.url == nil {
		return
	}
	e := &annotations.ExternalAuth{URL: *a.url, Method: a.method, ResponseHeaders: a.responseHeaders,
		RequestRedirect: a.requestRedirect, Snippet: a.snippet, AlwaysSetCookie: a.alwaysSetCookie}
	if a.signin != nil {
		a.signin.Resolve(e, a.signinParam)
	}
	if a.cacheKey != "" {
		e.Cache = &annotations.AuthCache{Key: a.cacheKey, Valid: annotations.DefaultAuthCacheValid}
		if a.cacheValid != nil {
			e.Cache.Valid = a.cacheValid
		}
	}
	g.Auth = e
}

// The parsers of the global-auth-* keys and no-auth-locations.

func parseGlobalAuthURL(v string, b *globalBuild) string {
	if v == "" {
		b.auth.url = nil
		return ""
	}
	u, ok := annotations.ParseGlobalAuthURL(v)
	if !ok {
		return "an absolute http or https URL naming the auth service's host (not $host: one service answers for every host), " +
			"such as http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth, or empty"
	}
	b.auth.url = &u
	return ""
}

func parseGlobalAuthMethod(v string, b *globalBuild) string {
	if v == "" {
		b.auth.method = ""
		return ""
	}
	m, ok := annotations.ParseAuthMethod(v)
	if !ok {
		return "GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS, or empty"
	}
	b.auth.method = m
	return ""
}

func parseGlobalAuthSignin(v string, b *globalBuild) string {
	if v == "" {
		b.auth.signin = nil
		return ""
	}
	s, ok := annotations.ParseGlobalSignin(v)
	if !ok {
		return "an absolute http or https URL naming the sign-in page's host, whose query holds fixed parameters and at most one " +
			"that carries the request ($escaped_request_uri, or $scheme://$host$escaped_request_uri and its variants), or empty"
	}
	b.auth.signin = &s
	return ""
}

func parseGlobalAuthSigninParam(v string, b *globalBuild) string {
	p, ok := annotations.ParseSigninParam(v)
	if !ok {
		return "a query parameter name of letters, digits and _.~-"
	}
	b.auth.signinParam = p
	return ""
}

func parseGlobalAuthResponseHeaders(v string, b *globalBuild) string {
	if v == "" {
		b.auth.responseHeaders = nil
		return ""
	}
	hs, ok := annotations.ParseAuthResponseHeaders(v)
	if !ok {
		return "a comma-separated list of header names (letters, digits, -)"
	}
	b.auth.responseHeaders = hs
	return ""
}

func parseGlobalAuthRequestRedirect(v string, b *globalBuild) string {
	if v == "" {
		b.auth.requestRedirect = ""
		return ""
	}
	t, want := annotations.ParseAuthRequestRedirect(v)
	if want != "" {
		return want
	}
	b.auth.requestRedirect = t
	return ""
}

// parseGlobalAuthSnippet takes the snippet only when snippets are allowed
// as for annotations: allow-snippet-annotations and annotations-risk-level,
// which sort (and so are parsed) before it.
func parseGlobalAuthSnippet(v string, b *globalBuild) string {
	sn, want := annotations.ParseSnippet(v)
	switch {
	case want != "":
		return want
	case sn != "" && (!b.g.AllowSnippets || b.g.RiskLevel < annotations.RiskCritical):
		return "snippets allowed first: allow-snippet-annotations: \"true\" and annotations-risk-level: Critical"
	}
	b.auth.snippet = sn
	return ""
}

func parseGlobalAuthCacheKey(v string, b *globalBuild) string {
	if v == "" {
		b.auth.cacheKey = ""
		return ""
	}
	k, want := annotations.ParseAuthCacheKey(v)
	if want != "" {
		return want
	}
	b.auth.cacheKey = k
	return ""
}

func parseGlobalAuthCacheValid(v string, b *globalBuild) string {
	valid, ok := annotations.ParseAuthCacheValid(v)
	if !ok {
		return annotations.WantAuthCacheValid
	}
	b.auth.cacheValid = valid
	return ""
}

func parseGlobalAuthAlwaysSetCookie(v string, b *globalBuild) string {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return "true or false"
	}
	b.auth.alwaysSetCookie = x
	return ""
}

// noAuthLocation is an entry of no-auth-locations: a path prefix.
var noAuthLocation = regexp.MustCompile(`^/[^\s,]{0,255}$`)

func parseNoAuthLocations(v string, b *globalBuild) string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !noAuthLocation.MatchString(s) || len(out) == 64 {
			return "a comma-separated list of at most 64 path prefixes starting with /, or empty"
		}
		out = append(out, s)
	}
	b.g.NoAuthLocations = out
	return ""
}

// noAuth reports whether Ingress path p is one that no auth checks: it
// starts with an entry of no-auth-locations.
func (g *Global) noAuth(p string) bool {
	for _, l := range g.NoAuthLocations {
		if strings.HasPrefix(p, l) {
			return true
		}
	}
	return false
}
