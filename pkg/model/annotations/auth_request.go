package annotations

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// The companions of auth-url that shape the auth subrequest: its cache,
// its connections, its headers, the sign-in parameter, the client's
// cookies and a snippet in its location.
const (
	nameAuthCacheKey          = "auth-cache-key"
	nameAuthCacheDuration     = "auth-cache-duration"
	nameAuthKeepalive         = "auth-keepalive"
	nameAuthKeepaliveRequests = "auth-keepalive-requests"
	nameAuthKeepaliveTimeout  = "auth-keepalive-timeout"
	nameAuthKeepaliveShare    = "auth-keepalive-share-vars"
	nameAuthProxySetHeaders   = "auth-proxy-set-headers"
	nameAuthRequestRedirect   = "auth-request-redirect"
	nameAuthAlwaysSetCookie   = "auth-always-set-cookie"
	nameAuthSigninParam       = "auth-signin-redirect-param"
	nameAuthSnippet           = "auth-snippet"
)

// AuthCache keeps the auth service's answers in nginx's cache, per Key
// and per location (the plan scopes the key), for as long as Valid says.
type AuthCache struct {
	// Key is nginx variables of the request and literal [A-Za-z0-9_-]; it
	// names at least one variable.
	Key Template `json:"key"`
	// Valid are proxy_cache_valid's arguments, one entry each: status
	// codes (100-599, or any) and one time, such as "200 202 401 5m".
	Valid []string `json:"valid"`
}

// DefaultAuthCacheValid is what auth-cache-duration is when unset, as in
// ingress-nginx.
var DefaultAuthCacheValid = []string{"200 202 401 5m"}

// AuthKeepalive keeps idle connections to the auth service, as an nginx
// upstream block with keepalive does.
type AuthKeepalive struct {
	// Connections is the idle connections kept per worker (nginx's
	// keepalive), Requests the requests one connection serves and Timeout
	// how long, in seconds, an idle one is kept.
	Connections int `json:"connections"`
	Requests    int `json:"requests"`
	Timeout     int `json:"timeout"`
	// Address is the IP address and port nginx connects to: the URL's
	// own, or the cluster IP of the Service the URL names; the model sets
	// it (nginx.conf names no host that needs resolving).
	Address string `json:"address,omitempty"`
}

// ObjectRef names an object: Namespace is "" or the namespace the
// annotation named (the model accepts only the Ingress's own).
type ObjectRef struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// AuthSetHeader is a header sent to the auth service: a name of
// [A-Za-z0-9_-] and a value of printable characters and variables of the
// request.
type AuthSetHeader struct {
	Name  string   `json:"name"`
	Value Template `json:"value"`
}

var (
	// cacheKeyLiteral and headerValueLiteral are the literal characters of
	// a cache key (ingress-nginx's grammar) and of a header value.
	cacheKeyLiteral    = regexp.MustCompile(`^[A-Za-z0-9_-]$`)
	headerValueLiteral = regexp.MustCompile(`^[ !#%&'()*+,\-./0-9:;<=>?@A-Z\[\]^_` + "`" + `a-z{|}~]$`)
	// redirectLiteral are a URL's characters.
	redirectLiteral = regexp.MustCompile(`^[A-Za-z0-9\-._~:/?#\[\]@!&'()*+,=%]$`)
	cacheStatus     = regexp.MustCompile(`^([1-5][0-9][0-9]|any)$`)
	cacheTime       = regexp.MustCompile(`^[0-9]{1,6}(ms|s|m|h|d|w|M|y)$`)
	authHeaderName  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

const (
	maxAuthTemplate   = 1024
	maxAuthSetHeaders = 64
	maxAuthHeaderVal  = 4096
	// Bounds of auth-keepalive, -requests and -timeout.
	maxAuthKeepalive         = 10000
	maxAuthKeepaliveRequests = 1000000
	maxAuthKeepaliveTimeout  = 3600
)

const (
	wantCacheKey = "nginx variables of the request and literal letters, digits, _ and - (at most 1024 characters), naming at least one variable, such as $remote_user$http_authorization: a key of literals alone would give every client the first one's answer"
	// WantAuthCacheValid says what a cache duration looks like.
	WantAuthCacheValid      = "comma-separated entries of status codes (100-599 or any) and one time such as 30s, 5m or 1h: 200 202 10m, 401 1m"
	wantAuthRequestRedirect = "a URL of letters, digits and -._~:/?#[]@!&'()*+,=%"
	wantSigninParam         = "a query parameter name of letters, digits and _.~-"
)

// ParseAuthCacheKey parses a cache key of auth answers (auth-cache-key,
// global-auth-cache-key); want is "" when it passes.
func ParseAuthCacheKey(v string) (key Template, want string) {
	if len(v) > maxAuthTemplate {
		return "", wantCacheKey
	}
	vars, bad, ok := parseTemplate(v, cacheKeyLiteral)
	if !ok || vars == 0 {
		return "", templateWant(wantCacheKey, bad)
	}
	return Template(v), ""
}

// ParseAuthCacheValid parses how long auth answers are kept
// (auth-cache-duration, global-auth-cache-duration): entries normalized
// to single spaces.
func ParseAuthCacheValid(v string) ([]string, bool) {
	var out []string
	for _, entry := range strings.Split(v, ",") {
		f := strings.Fields(entry)
		if len(f) == 0 {
			continue
		}
		for _, code := range f[:len(f)-1] {
			if !cacheStatus.MatchString(code) {
				return nil, false
			}
		}
		if !cacheTime.MatchString(f[len(f)-1]) {
			return nil, false
		}
		out = append(out, strings.Join(f, " "))
	}
	return out, len(out) > 0 && len(out) <= 16
}

// ParseAuthRequestRedirect parses the value of X-Auth-Request-Redirect
// (auth-request-redirect, global-auth-request-redirect); want is "" when
// it passes.
func ParseAuthRequestRedirect(v string) (Template, string) {
	if len(v) > maxAuthTemplate {
		return "", wantAuthRequestRedirect
	}
	if _, bad, ok := parseTemplate(v, redirectLiteral); !ok || v == "" {
		return "", templateWant(wantAuthRequestRedirect, bad)
	}
	return Template(v), ""
}

// ParseSigninParam parses the query parameter that carries the request
// to the sign-in page (auth-signin-redirect-param,
// global-auth-signin-redirect-param).
func ParseSigninParam(v string) (string, bool) { return v, signinParam.MatchString(v) }

// ParseAuthSetHeaders checks the headers of a ConfigMap that
// auth-proxy-set-headers names: names of [A-Za-z0-9_-], values of
// printable characters and variables of the request; sorted by name.
func ParseAuthSetHeaders(data map[string]string) ([]AuthSetHeader, error) {
	if len(data) > maxAuthSetHeaders {
		return nil, fmt.Errorf("it has %d headers; at most %d", len(data), maxAuthSetHeaders)
	}
	names := make([]string, 0, len(data))
	for n := range data {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]AuthSetHeader, 0, len(names))
	for _, n := range names {
		if !authHeaderName.MatchString(n) {
			return nil, fmt.Errorf("header name %s: want letters, digits, _ and -", quoteValue(n))
		}
		v := data[n]
		if _, bad, ok := parseTemplate(v, headerValueLiteral); !ok || len(v) > maxAuthHeaderVal {
			return nil, fmt.Errorf("header %s: value %s: want %s", n, quoteValue(v),
				templateWant(fmt.Sprintf("at most %d printable characters but \" and \\", maxAuthHeaderVal), bad))
		}
		out = append(out, AuthSetHeader{Name: n, Value: Template(v)})
	}
	return out, nil
}

// parseSigninParam parses auth-signin-redirect-param; "" when unset.
func parseSigninParam(a Annotations) (string, []diag.Diagnostic) {
	v, ok := a.lookup(nameAuthSigninParam)
	if !ok {
		return "", nil
	}
	if p, ok := ParseSigninParam(v); ok {
		return p, nil
	}
	return "", invalid(nameAuthSigninParam, v, "want "+wantSigninParam)
}

// parseAuthRequest parses the companions of auth-url into e.
func parseAuthRequest(a Annotations, e *ExternalAuth) []diag.Diagnostic {
	var ds []diag.Diagnostic
	if v, ok := a.lookup(nameAuthCacheKey); ok {
		if k, want := ParseAuthCacheKey(v); want == "" {
			e.Cache = &AuthCache{Key: k, Valid: DefaultAuthCacheValid}
		} else {
			ds = append(ds, invalid(nameAuthCacheKey, v, "want "+want)...)
		}
	}
	if v, ok := a.lookup(nameAuthCacheDuration); ok {
		valid, ok := ParseAuthCacheValid(v)
		switch {
		case !ok:
			ds = append(ds, invalid(nameAuthCacheDuration, v, "want "+WantAuthCacheValid)...)
		case e.Cache != nil:
			e.Cache.Valid = valid
		}
	}
	if v, ok := a.lookup(nameAuthRequestRedirect); ok {
		if t, want := ParseAuthRequestRedirect(v); want == "" {
			e.RequestRedirect = t
		} else {
			ds = append(ds, invalid(nameAuthRequestRedirect, v, "want "+want)...)
		}
	}
	cookie, _, d := parseBool(a, nameAuthAlwaysSetCookie)
	e.AlwaysSetCookie = cookie
	ds = append(ds, d...)
	// Portico's auth subrequests always share the request's variables
	// (catalog): the value is checked, and changes nothing.
	_, _, d = parseBool(a, nameAuthKeepaliveShare)
	ds = append(ds, d...)
	ds = append(ds, parseAuthKeepalive(a, e)...)
	ref, d := parseConfigMapRef(a, nameAuthProxySetHeaders)
	ds = append(ds, d...)
	if !ref.IsZero() {
		e.ProxyHeaders = &ref
	}
	var d2 []diag.Diagnostic
	e.Snippet, d2 = parseSnippet(a, nameAuthSnippet)
	return append(ds, d2...)
}

// parseAuthKeepalive parses auth-keepalive and its -requests and
// -timeout (1000 and 60 s by default, as in ingress-nginx). 0 keeps no
// connection; nor does a URL whose host is $host (an upstream block names
// one host), which is reported, as ingress-nginx does.
func parseAuthKeepalive(a Annotations, e *ExternalAuth) []diag.Diagnostic {
	var ds []diag.Diagnostic
	num := func(name string, lo, hi, def int) int {
		v, ok := a.lookup(name)
		if !ok {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi || strings.TrimLeft(v, "0123456789") != "" {
			ds = append(ds, invalid(name, v, fmt.Sprintf("want a whole number from %d to %d", lo, hi))...)
			return def
		}
		return n
	}
	k := AuthKeepalive{Connections: num(nameAuthKeepalive, 0, maxAuthKeepalive, 0),
		Requests: num(nameAuthKeepaliveRequests, 1, maxAuthKeepaliveRequests, 1000),
		Timeout:  num(nameAuthKeepaliveTimeout, 1, maxAuthKeepaliveTimeout, 60)}
	switch {
	case k.Connections == 0 || diag.HasError(ds):
	case e.URLHostFromRule:
		ds = append(ds, diag.Warnf(field(nameAuthKeepalive), "IneffectiveAnnotation",
			"auth-url's host is $host: an upstream block with kept connections names one host, so every auth request opens its own connection"))
	default:
		e.Keepalive = &k
	}
	return ds
}
