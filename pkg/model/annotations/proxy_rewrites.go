package annotations

import (
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameProxyRedirectFrom = "proxy-redirect-from"
	nameProxyRedirectTo   = "proxy-redirect-to"
	nameProxyCookieDomain = "proxy-cookie-domain"
	nameProxyCookiePath   = "proxy-cookie-path"
)

// rewriteToken is one literal argument of proxy_redirect or
// proxy_cookie_*: an absolute URL, a path or a domain, without quotes,
// whitespace, braces, semicolons, backslashes or nginx variables ($), and
// not a regex (~).
var rewriteToken = regexp.MustCompile(`^[A-Za-z0-9/][A-Za-z0-9._~:/?#\[\]@!&'()*+,=%-]{0,999}$`)

// RewriteArgument reports whether v may be one argument of proxy_redirect
// or proxy_cookie_* (the ConfigMap's defaults of these annotations).
func RewriteArgument(v string) bool { return rewriteToken.MatchString(v) }

// Rewrite is a from → to pair of nginx's proxy_redirect or
// proxy_cookie_domain / proxy_cookie_path; Off turns nginx's rewriting off.
type Rewrite struct {
	Off  bool   `json:"off,omitempty"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// parseProxyRewrites parses proxy-redirect-from/-to (the Location and
// Refresh headers of backend answers; "off" for none) and proxy-cookie-domain/-path ("<from>
// <to>" or "off"). proxy-redirect-from "default" is "off": ingress-nginx
// prints nginx's "proxy_redirect default", which rewrites the proxy_pass
// URL, the Lua balancer's upstream there as here, and no backend sends it.
func parseProxyRewrites(a Annotations, p *Proxy) []diag.Diagnostic {
	var ds []diag.Diagnostic
	from, hasFrom := a.lookup(nameProxyRedirectFrom)
	to, hasTo := a.lookup(nameProxyRedirectTo)
	switch {
	case !hasFrom && !hasTo:
	case hasFrom && (from == "off" || from == "default"):
		p.Redirect = &Rewrite{Off: true}
	case hasFrom && hasTo && rewriteToken.MatchString(from) && rewriteToken.MatchString(to):
		p.Redirect = &Rewrite{From: from, To: to}
	case hasFrom && hasTo && !rewriteToken.MatchString(from):
		ds = append(ds, invalid(nameProxyRedirectFrom, from, "want off, default, or a URL or path without quotes, spaces or $")...)
	case hasFrom && hasTo:
		ds = append(ds, invalid(nameProxyRedirectTo, to, "want a URL or path without quotes, spaces or $")...)
	case hasTo:
		ds = append(ds, diag.Errorf(field(nameProxyRedirectTo), "InvalidAnnotation", "%s%s needs %s%s", Prefix, nameProxyRedirectTo, Prefix, nameProxyRedirectFrom))
	default:
		ds = append(ds, diag.Errorf(field(nameProxyRedirectFrom), "InvalidAnnotation", "%s%s needs %s%s, unless it is off",
			Prefix, nameProxyRedirectFrom, Prefix, nameProxyRedirectTo))
	}
	pair := func(name string) *Rewrite {
		v, ok := a.lookup(name)
		if !ok {
			return nil
		}
		if v == "off" {
			return &Rewrite{Off: true}
		}
		f := strings.Fields(v)
		if len(f) == 2 && rewriteToken.MatchString(f[0]) && rewriteToken.MatchString(f[1]) {
			return &Rewrite{From: f[0], To: f[1]}
		}
		ds = append(ds, invalid(name, v, "want off or \"<from> <to>\" without quotes or $")...)
		return nil
	}
	p.CookieDomain = pair(nameProxyCookieDomain)
	p.CookiePath = pair(nameProxyCookiePath)
	return ds
}
