package model

import (
	"regexp"
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

// globalAuthKey is the parser of a global-auth-* key: parse checks a value
// (want is "" when it passes) and set stores it; an empty value stores
// the zero value (the key's default).
func globalAuthKey[T any](parse func(string) (T, string), set func(*globalAuthBuild) *T) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		var x T
		if v != "" {
			var want string
			if x, want = parse(v); want != "" {
				return want
			}
		}
		*set(&b.auth) = x
		return ""
	}
}

// wantIf adapts a parser that says ok to globalAuthKey's, with what a
// value must look like.
func wantIf[T any](parse func(string) (T, bool), want string) func(string) (T, string) {
	return func(v string) (T, string) {
		x, ok := parse(v)
		if !ok {
			return x, want
		}
		return x, ""
	}
}

var (
	parseGlobalAuthURL = globalAuthKey(wantIf(func(v string) (*annotations.URL, bool) {
		u, ok := annotations.ParseGlobalAuthURL(v)
		return &u, ok
	}, "an absolute http or https URL naming the auth service's host (not $host: one service answers for every host), "+
		"such as http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth, or empty"), func(a *globalAuthBuild) **annotations.URL { return &a.url })
	parseGlobalAuthMethod = globalAuthKey(wantIf(annotations.ParseAuthMethod, "GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS, or empty"),
		func(a *globalAuthBuild) *string { return &a.method })
	parseGlobalAuthSignin = globalAuthKey(wantIf(func(v string) (*annotations.Signin, bool) {
		s, ok := annotations.ParseGlobalSignin(v)
		return &s, ok
	}, "an absolute http or https URL naming the sign-in page's host, whose query holds fixed parameters and at most one "+
		"that carries the request ($escaped_request_uri, or $scheme://$host$escaped_request_uri and its variants), or empty"),
		func(a *globalAuthBuild) **annotations.Signin { return &a.signin })
	parseGlobalAuthResponseHeaders = globalAuthKey(wantIf(annotations.ParseAuthResponseHeaders, "a comma-separated list of header names (letters, digits, -)"),
		func(a *globalAuthBuild) *[]annotations.AuthHeader { return &a.responseHeaders })
	parseGlobalAuthRequestRedirect = globalAuthKey(annotations.ParseAuthRequestRedirect,
		func(a *globalAuthBuild) *annotations.Template { return &a.requestRedirect })
	parseGlobalAuthCacheKey   = globalAuthKey(annotations.ParseAuthCacheKey, func(a *globalAuthBuild) *annotations.Template { return &a.cacheKey })
	parseGlobalAuthCacheValid = globalAuthKey(wantIf(annotations.ParseAuthCacheValid, annotations.WantAuthCacheValid),
		func(a *globalAuthBuild) *[]string { return &a.cacheValid })
	parseGlobalAuthSigninParam = globalAuthKey(wantIf(annotations.ParseSigninParam, "a query parameter name of letters, digits and _.~-"),
		func(a *globalAuthBuild) *string { return &a.signinParam })
	parseGlobalAuthAlwaysSetCookie = boolOption(func(b *globalBuild) *bool { return &b.auth.alwaysSetCookie })
)

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
