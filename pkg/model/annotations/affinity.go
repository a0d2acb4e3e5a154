package annotations

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameAffinity              = "affinity"
	nameAffinityMode          = "affinity-mode"
	nameSessionCookieName     = "session-cookie-name"
	nameSessionCookiePath     = "session-cookie-path"
	nameSessionCookieMaxAge   = "session-cookie-max-age"
	nameSessionCookieExpires  = "session-cookie-expires"
	nameSessionCookieSameSite = "session-cookie-samesite"
	nameSessionCookieDomain   = "session-cookie-domain"
	nameSessionCookieSecure   = "session-cookie-secure"
)

// Affinity is cookie session affinity, done in Lua: the cookie names an
// endpoint; while that endpoint exists the client stays on it, otherwise
// it gets a new endpoint and a new cookie.
type Affinity struct {
	// Cookie is the cookie's name; "" means affinity is off.
	Cookie CookieName `json:"cookie"`
	// Path is the cookie's Path attribute; "" for the Ingress path of the
	// location that sets the cookie, as ingress-nginx does.
	Path URIPath `json:"path,omitempty"`
	// MaxAge and Expires are seconds; zero leaves the attribute out (a
	// session cookie when both are zero).
	MaxAge  int `json:"maxAge,omitempty"`
	Expires int `json:"expires,omitempty"`
	// SameSite is "", Strict, Lax or None.
	SameSite string `json:"sameSite,omitempty"`
	// Mode is balanced or persistent. Portico keeps a client on its
	// endpoint in both modes while the endpoint exists.
	Mode string `json:"mode"`
	// Domain is the cookie's Domain attribute, "" for none (the host).
	Domain string `json:"domain,omitempty"`
	// Secure sets the Secure attribute on plain HTTP too (it is always
	// set on HTTPS and with SameSite=None).
	Secure bool `json:"secure,omitempty"`
	AffinityOptions
}

const (
	defaultSessionCookie = "INGRESSCOOKIE"
	maxCookieSeconds     = 1<<31 - 1
)

func parseAffinity(a Annotations) (Affinity, []diag.Diagnostic) {
	var ds, d []diag.Diagnostic
	kind, set := a.lookup(nameAffinity)
	if set && kind != "cookie" {
		ds = append(ds, invalid(nameAffinity, kind, "want cookie")...)
	}
	af := Affinity{Cookie: defaultSessionCookie, Mode: "balanced"}
	if v, ok := a.lookup(nameAffinityMode); ok {
		if v != "balanced" && v != "persistent" {
			ds = append(ds, invalid(nameAffinityMode, v, "want balanced or persistent")...)
		}
		af.Mode = v
	}
	if v, ok := a.lookup(nameSessionCookieName); ok {
		if len(v) > maxName || !cookieName.MatchString(v) {
			ds = append(ds, invalid(nameSessionCookieName, v, "want a cookie name of letters, digits, _ and -")...)
		}
		af.Cookie = CookieName(v)
	}
	if v, ok := a.lookup(nameSessionCookiePath); ok {
		p, ok := parseURIPath(v)
		if !ok {
			ds = append(ds, invalid(nameSessionCookiePath, v, "want an absolute path made of letters, digits and -._~/!&()*+,=:@")...)
		}
		af.Path = p
	}
	af.MaxAge, d = parseInt(a, nameSessionCookieMaxAge, 0, maxCookieSeconds, 0)
	ds = append(ds, d...)
	af.Expires, d = parseInt(a, nameSessionCookieExpires, 0, maxCookieSeconds, 0)
	ds = append(ds, d...)
	// ingress-nginx sends 0 as Max-Age=0 or an Expires of now, a cookie
	// the browser drops at once; here 0 is no lifetime: a session cookie.
	for _, name := range []string{nameSessionCookieMaxAge, nameSessionCookieExpires} {
		if v, _ := a.lookup(name); v == "0" {
			ds = append(ds, diag.Warnf(field(name), "CookieLifetimeZero",
				"0 makes a session cookie here; ingress-nginx sends a cookie that has expired, so that no request is pinned"))
		}
	}
	if v, ok := a.lookup(nameSessionCookieSameSite); ok {
		// Any case, as ingress-nginx takes it; browsers read it so too.
		switch strings.ToLower(v) {
		case "strict":
			af.SameSite = "Strict"
		case "lax":
			af.SameSite = "Lax"
		case "none":
			af.SameSite = "None"
		default:
			ds = append(ds, invalid(nameSessionCookieSameSite, v, "want Strict, Lax or None")...)
		}
	}
	if v, ok := a.lookup(nameSessionCookieDomain); ok {
		d := strings.ToLower(strings.TrimPrefix(v, "."))
		if len(d) > 253 || !dnsName.MatchString(d) || !strings.Contains(d, ".") {
			ds = append(ds, invalid(nameSessionCookieDomain, v, "want a domain such as example.com")...)
		}
		af.Domain = d
	}
	af.Secure, _, d = parseBool(a, nameSessionCookieSecure)
	ds = append(ds, d...)
	af.AffinityOptions, d = parseAffinityOptions(a)
	ds = append(ds, d...)
	if diag.HasError(ds) || !set {
		return Affinity{}, ds
	}
	return af, ds
}
