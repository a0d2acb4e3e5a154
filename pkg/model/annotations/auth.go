package annotations

import (
	"regexp"
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

// ExternalAuth is auth-url: each request is first sent to URL (nginx
// auth_request); 2xx lets it through, 401/403 are returned.
type ExternalAuth struct {
	URL URL `json:"url"`
	// URLHostFromRule: the URL's host was $host, which on a rule of one
	// host is that host; the model sets URL.Host per rule.
	URLHostFromRule bool `json:"urlHostFromRule,omitempty"`
	// Method is the auth request's method; "" is GET.
	Method string `json:"method,omitempty"`
	// Signin, when set, is where 401 answers redirect to, with ?rd= what
	// SigninRD says.
	Signin *URL `json:"signin,omitempty"`
	// SigninHostFromRule is URLHostFromRule for Signin.
	SigninHostFromRule bool     `json:"signinHostFromRule,omitempty"`
	SigninRD           SigninRD `json:"signinRD,omitempty"`
	// ResponseHeaders are copied from the auth answer to the backend
	// request.
	ResponseHeaders []AuthHeader `json:"responseHeaders,omitempty"`
}

// SigninRD is what the ?rd= of a sign-in redirect carries.
type SigninRD string

const (
	// RDURL is the request's URL: scheme, the Host as sent, the request
	// URI; URL-escaped. ingress-nginx's default.
	RDURL SigninRD = ""
	// RDRequestURI is the request URI alone, URL-escaped
	// ($escaped_request_uri: oauth2-proxy's documented setup).
	RDRequestURI SigninRD = "request-uri"
)

// hostVar is the one variable an auth URL may hold, as its whole host.
const hostVar = "$host"

var (
	// The ?rd= forms of auth-signin taken from ingress-nginx's docs and
	// common oauth2-proxy setups; each is one of the two SigninRDs.
	rdRequestURI = regexp.MustCompile(`^rd=\$(escaped_)?request_uri$`)
	rdURL        = regexp.MustCompile(`^rd=(\$scheme|\$pass_access_scheme)://(\$host|\$http_host|\$best_http_host)\$(escaped_)?request_uri$`)
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

// AuthHeader is a header name and the nginx variable suffix that holds it.
type AuthHeader struct {
	Name string `json:"name"`
	// Var is Name lower-cased with '-' as '_'.
	Var string `json:"var"`
}

var (
	realmGrammar  = regexp.MustCompile(`^[A-Za-z0-9 _.,:/@()!&*+=-]{1,128}$`)
	secretName    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
	authMethods   = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}
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
		if authMethods[v] {
			e.Method = v
		} else {
			ds = append(ds, invalid(nameAuthMethod, v, "want GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS")...)
		}
	}
	if v, ok := a.lookup(nameAuthSignin); ok {
		base, query, hasQuery := strings.Cut(v, "?")
		u, fromRule, ok := parseAuthURL(base)
		switch {
		case !ok || u.Query != "":
		case !hasQuery:
			e.Signin, e.SigninHostFromRule = &u, fromRule
		case rdRequestURI.MatchString(query):
			e.Signin, e.SigninHostFromRule, e.SigninRD = &u, fromRule, RDRequestURI
		case rdURL.MatchString(query):
			e.Signin, e.SigninHostFromRule = &u, fromRule
		}
		if e.Signin == nil {
			ds = append(ds, invalid(nameAuthSignin, v, wantAuthURL+", and no query or one of "+
				"rd=$escaped_request_uri, rd=$request_uri (the request URI) or "+
				"rd=$scheme://$host$escaped_request_uri and its variants (the request's URL)")...)
		}
	}
	if v, ok := a.lookup(nameAuthResponseHeaders); ok {
		hs, ok := splitList(v, headerNameTok.MatchString)
		if ok {
			for _, h := range hs {
				e.ResponseHeaders = append(e.ResponseHeaders, AuthHeader{Name: h, Var: strings.ToLower(strings.ReplaceAll(h, "-", "_"))})
			}
		} else {
			ds = append(ds, invalid(nameAuthResponseHeaders, v, "want a comma-separated list of header names (letters, digits, -)")...)
		}
	}
	if !on || diag.HasError(ds) {
		return nil, ds
	}
	return e, ds
}

// secretRef parses annotation name naming a Secret as "name" or
// "namespace/name" (the model accepts only the Ingress's own namespace);
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
