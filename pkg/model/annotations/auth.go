package annotations

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameAuthType            = "auth-type"
	nameAuthSecret          = "auth-secret"
	nameAuthSecretType      = "auth-secret-type"
	nameAuthRealm           = "auth-realm"
	nameAuthURL             = "auth-url"
	nameAuthSignin          = "auth-signin"
	nameAuthResponseHeaders = "auth-response-headers"
	nameAuthMethod          = "auth-method"
)

// BasicAuth is auth-type basic: the model reads the Secret.
type BasicAuth struct {
	// Namespace is "" or the namespace auth-secret named; the model
	// accepts only the Ingress's own.
	Namespace string
	// Secret is the Secret's name.
	Secret string
	// Map: the Secret maps user names to hashes (auth-map); otherwise its
	// key "auth" holds an htpasswd file (auth-file).
	Map   bool
	Realm string
}

// ExternalAuth is auth-url, or the ConfigMap's global auth: each request
// is first sent to URL (nginx auth_request); 2xx lets it through, 401/403
// are returned.
type ExternalAuth struct {
	URL URL `json:"url"`
	// URLHostFromRule: the URL's host was $host, which on a rule of one
	// host is that host; the model sets URL.Host per rule.
	URLHostFromRule bool `json:"urlHostFromRule,omitempty"`
	// Method is the auth request's method; "" is GET.
	Method string `json:"method,omitempty"`
	// Signin, when set, is where 401 answers redirect to (its query holds
	// the fixed parameters), with SigninParam=<what SigninRD says>
	// appended.
	Signin *URL `json:"signin,omitempty"`
	// SigninHostFromRule is URLHostFromRule for Signin.
	SigninHostFromRule bool     `json:"signinHostFromRule,omitempty"`
	SigninRD           SigninRD `json:"signinRD,omitempty"`
	// SigninParam is the query parameter that carries the request to the
	// sign-in page (auth-signin-redirect-param, "rd" by default); "" with
	// SigninRD RDNone.
	SigninParam string `json:"signinParam,omitempty"`
	// ResponseHeaders are copied from the auth answer to the backend
	// request.
	ResponseHeaders []AuthHeader `json:"responseHeaders,omitempty"`
	// RequestRedirect is what X-Auth-Request-Redirect tells the auth
	// service (auth-request-redirect); "" is the request URI.
	RequestRedirect Template `json:"requestRedirect,omitempty"`
	// AlwaysSetCookie passes the auth answer's Set-Cookie to the client
	// with every answer; otherwise with 2xx and 3xx answers only (nginx
	// add_header's codes), as ingress-nginx does.
	AlwaysSetCookie bool `json:"alwaysSetCookie,omitempty"`
	// Cache keeps the auth answers (auth-cache-key); nil: none.
	Cache *AuthCache `json:"cache,omitempty"`
	// Keepalive keeps connections to the auth service (auth-keepalive);
	// nil: none.
	Keepalive *AuthKeepalive `json:"keepalive,omitempty"`
	// ProxyHeaders names the ConfigMap of headers sent to the auth service
	// (auth-proxy-set-headers); the model reads it into SetHeaders.
	ProxyHeaders *ObjectRef      `json:"proxyHeaders,omitempty"`
	SetHeaders   []AuthSetHeader `json:"setHeaders,omitempty"`
	// Snippet goes into the location of the auth subrequest
	// (auth-snippet, global-auth-snippet).
	Snippet Snippet `json:"snippet,omitempty"`
}

// SigninRD is what the SigninParam of a sign-in redirect carries.
type SigninRD string

const (
	// RDURL is the request's URL: scheme, the Host as sent, the request
	// URI; URL-escaped. ingress-nginx's default.
	RDURL SigninRD = ""
	// RDRequestURI is the request URI alone, URL-escaped
	// ($escaped_request_uri: oauth2-proxy's documented setup).
	RDRequestURI SigninRD = "request-uri"
	// RDNone: the sign-in URL's own query names SigninParam with a fixed
	// value; nothing is appended, as in ingress-nginx.
	RDNone SigninRD = "none"
)

// hostVar is the one variable an auth URL may hold, as its whole host.
const hostVar = "$host"

var (
	// The forms of the request a sign-in URL's parameter may carry, taken
	// from ingress-nginx's docs and common oauth2-proxy setups; each is one
	// of the SigninRDs.
	rdRequestURI = regexp.MustCompile(`^\$(escaped_)?request_uri$`)
	rdURL        = regexp.MustCompile(`^(\$scheme|\$pass_access_scheme)://(\$host|\$http_host|\$best_http_host)\$(escaped_)?request_uri$`)
	// signinParam is a query parameter name.
	signinParam = regexp.MustCompile(`^[A-Za-z0-9_.~-]{1,64}$`)
)

const wantAuthURL = wantURL + ", whose host may be $host (the rule's host)"

// parseAuthURL parses an auth-url or auth-signin URL; fromRule reports
// that its host was $host (u.Host is then "").
func parseAuthURL(v string) (u URL, fromRule, ok bool) {
	scheme, rest, _ := strings.Cut(v, "://")
	if after, found := strings.CutPrefix(rest, hostVar); found && (after == "" || after[0] == ':' || after[0] == '/') {
		// A stand-in host for the grammar; the model puts the rule's.
		u, ok = parseURL(scheme + "://host.invalid" + after)
		u.Host = ""
		return u, true, ok
	}
	u, ok = parseURL(v)
	return u, false, ok
}

// Signin is a sign-in URL parsed (auth-signin, global-auth-signin),
// before the redirect parameter is known: its fixed query parameters, and
// the one (rdKey) that carries the request in one of the SigninRD forms,
// if any.
type Signin struct {
	url      URL
	fromRule bool
	fixed    []string
	rdKey    string
	rd       SigninRD
}

const wantSignin = wantAuthURL + ", and a query of fixed parameters (letters, digits and -._~) and at most one " +
	"parameter that carries the request: $escaped_request_uri or $request_uri (the request URI) or " +
	"$scheme://$host$escaped_request_uri and its variants (the request's URL), such as rd=$escaped_request_uri"

// ParseGlobalAuthURL parses global-auth-url: as auth-url, but its host
// is never $host (one service asked for every host).
func ParseGlobalAuthURL(v string) (URL, bool) { return parseURL(v) }

// ParseGlobalSignin parses global-auth-signin: as auth-signin, but its
// host is never $host.
func ParseGlobalSignin(v string) (Signin, bool) {
	s, ok := parseSignin(v)
	return s, ok && !s.fromRule
}

// parseSignin parses an auth-signin URL.
func parseSignin(v string) (Signin, bool) {
	base, query, _ := strings.Cut(v, "?")
	u, fromRule, ok := parseAuthURL(base)
	if !ok || u.Query != "" {
		return Signin{}, false
	}
	s := Signin{url: u, fromRule: fromRule}
	if query == "" {
		return s, true
	}
	for _, part := range strings.Split(query, "&") {
		k, val, _ := strings.Cut(part, "=")
		if !signinParam.MatchString(k) {
			return Signin{}, false
		}
		switch {
		case rdRequestURI.MatchString(val) || rdURL.MatchString(val):
			if s.rdKey != "" {
				return Signin{}, false
			}
			s.rdKey, s.rd = k, RDURL
			if rdRequestURI.MatchString(val) {
				s.rd = RDRequestURI
			}
		case queryChars.MatchString(val):
			s.fixed = append(s.fixed, part)
		default:
			return Signin{}, false
		}
	}
	return s, true
}

// Resolve sets e's sign-in fields from s and param, the parameter that
// carries the request ("" is rd): the parameter of the query that names
// the request in a SigninRD form, else param appended with the request's
// URL, unless the query gives param a fixed value (ingress-nginx then
// adds nothing).
func (s Signin) Resolve(e *ExternalAuth, param string) {
	u := s.url
	u.Query = strings.Join(s.fixed, "&")
	e.Signin, e.SigninHostFromRule = &u, s.fromRule
	param = cmp.Or(param, "rd")
	switch {
	case s.rdKey != "":
		e.SigninParam, e.SigninRD = s.rdKey, s.rd
	case slices.ContainsFunc(s.fixed, func(p string) bool { return strings.HasPrefix(p, param+"=") || p == param }):
		e.SigninParam, e.SigninRD = "", RDNone
	default:
		e.SigninParam, e.SigninRD = param, RDURL
	}
}

// SigninPrefix is the sign-in redirect up to the value of SigninParam
// ("https://l.example/start?rd="), or the whole redirect with RDNone.
func (e *ExternalAuth) SigninPrefix() string {
	s := e.Signin.String()
	if e.SigninRD == RDNone {
		return s
	}
	sep := "?"
	if e.Signin.Query != "" {
		sep = "&"
	}
	return s + sep + e.SigninParam + "="
}

// AuthHeader is a header name and the nginx variable suffix that holds it.
type AuthHeader struct {
	Name string `json:"name"`
	// Var is Name lower-cased with '-' as '_'.
	Var string `json:"var"`
}

var (
	realmGrammar = regexp.MustCompile(`^[A-Za-z0-9 _.,:/@()!&*+=-]{1,128}$`)
	secretName   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
	// authMethods are ingress-nginx's (its ValidMethod).
	authMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "CONNECT": true,
		"OPTIONS": true, "TRACE": true}
	headerNameTok = regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`)
)

// parseBasicAuth parses auth-type, auth-secret, auth-secret-type and
// auth-realm.
func parseBasicAuth(a Annotations) (*BasicAuth, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	t, typed := a.lookup(nameAuthType)
	if typed && t != "basic" {
		ds = append(ds, invalid(nameAuthType, t, "want basic (digest is not supported by Portico)")...)
	}
	b := &BasicAuth{Realm: "Authentication Required"}
	if v, ok := a.lookup(nameAuthRealm); ok {
		if realmGrammar.MatchString(v) {
			b.Realm = v
		} else {
			ds = append(ds, invalid(nameAuthRealm, v, "want up to 128 letters, digits, spaces and _.,:/@()!&*+=-")...)
		}
	}
	if v, ok := a.lookup(nameAuthSecretType); ok {
		switch v {
		case "auth-file":
		case "auth-map":
			b.Map = true
		default:
			ds = append(ds, invalid(nameAuthSecretType, v, "want auth-file or auth-map")...)
		}
	}
	ns, secret, hasSecret, d := secretRef(a, nameAuthSecret)
	b.Namespace, b.Secret = ns, secret
	ds = append(ds, d...)
	if !typed {
		return nil, ds
	}
	if !hasSecret && t == "basic" {
		ds = append(ds, diag.Errorf(field(nameAuthSecret), "InvalidAnnotation", "auth-type basic needs %s%s", Prefix, nameAuthSecret))
	}
	if diag.HasError(ds) {
		return nil, ds
	}
	return b, ds
}

const (
	wantAuthMethod          = "GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS or TRACE"
	wantAuthResponseHeaders = "a comma-separated list of header names (letters, digits, -)"
)

// ParseAuthMethod parses an auth request's method (auth-method,
// global-auth-method).
func ParseAuthMethod(v string) (string, bool) { return v, authMethods[v] }

// ParseAuthResponseHeaders parses a list of header names copied from the
// auth answer to the backend request (auth-response-headers,
// global-auth-response-headers).
func ParseAuthResponseHeaders(v string) ([]AuthHeader, bool) {
	hs, ok := splitList(v, headerNameTok.MatchString)
	if !ok {
		return nil, false
	}
	out := make([]AuthHeader, len(hs))
	for i, h := range hs {
		out[i] = AuthHeader{Name: h, Var: strings.ToLower(strings.ReplaceAll(h, "-", "_"))}
	}
	return out, true
}

// parseExternalAuth parses auth-url and its companions. A value outside
// its grammar refuses the whole of it (the Ingress is not served: auth is
// never dropped); auth-keepalive on a URL whose host is $host is only
// reported, as ingress-nginx does.
func parseExternalAuth(a Annotations) (*ExternalAuth, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	e := &ExternalAuth{}
	v, on := a.lookup(nameAuthURL)
	if on {
		if u, fromRule, ok := parseAuthURL(v); ok {
			e.URL, e.URLHostFromRule = u, fromRule
		} else {
			ds = append(ds, invalid(nameAuthURL, v, wantAuthURL)...)
		}
	}
	if v, ok := a.lookup(nameAuthMethod); ok {
		if m, ok := ParseAuthMethod(v); ok {
			e.Method = m
		} else {
			ds = append(ds, invalid(nameAuthMethod, v, "want "+wantAuthMethod)...)
		}
	}
	param, d := parseSigninParam(a)
	ds = append(ds, d...)
	if v, ok := a.lookup(nameAuthSignin); ok {
		if s, ok := parseSignin(v); ok {
			s.Resolve(e, param)
		} else {
			ds = append(ds, invalid(nameAuthSignin, v, wantSignin)...)
		}
	}
	if v, ok := a.lookup(nameAuthResponseHeaders); ok {
		if hs, ok := ParseAuthResponseHeaders(v); ok {
			e.ResponseHeaders = hs
		} else {
			ds = append(ds, invalid(nameAuthResponseHeaders, v, "want "+wantAuthResponseHeaders)...)
		}
	}
	ds = append(ds, parseAuthRequest(a, e)...)
	if !on || diag.HasError(ds) {
		return nil, ds
	}
	return e, ds
}

// secretRef parses annotation name naming a Secret as "name" or
// "namespace/name" (the model takes another namespace only with the
// ConfigMap's allow-cross-namespace-resources);
// ok is false when it is not set.
func secretRef(a Annotations, name string) (namespace, secret string, ok bool, ds []diag.Diagnostic) {
	v, ok := a.lookup(name)
	if !ok {
		return "", "", false, nil
	}
	secret = v
	if n, s, cut := strings.Cut(v, "/"); cut {
		if !secretName.MatchString(n) {
			ds = append(ds, invalid(name, v, "want name or namespace/name")...)
		}
		namespace, secret = n, s
	}
	if !secretName.MatchString(secret) {
		ds = append(ds, invalid(name, v, "want a Secret name")...)
		secret = ""
	}
	return namespace, secret, true, ds
}
