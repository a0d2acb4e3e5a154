package plan

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// A route of the Lua router in nginx's terms: what the server block it
// stands for would say, line by line, with the same words for people
// wherever Portico explains a route (the routed-hosts file, portico conf,
// portico diagnose).

// RouteTerm is one thing a route or a routed host does, in the order the
// router does it: Directives as a server block would say them (none when
// nginx.conf's location of the route says them, or nginx has no single
// directive for it), and Note in words ("" when the directives say it
// all).
type RouteTerm struct {
	Directives []string
	Note       string
}

// TermsContext is what nginx.conf adds to the routes: the HTTPS port
// (named in redirects to HTTPS with use-port-in-redirects), where the
// auth files are, and the router whose locations the routes name. Zero (a
// reader of the live router without nginx.conf) leaves out what only
// nginx.conf tells.
type TermsContext struct {
	HTTPSPort int
	AuthDir   string
	Router    *Router
}

// Modifier is the modifier of the location r stands for.
func (r *Route) Modifier() model.Modifier {
	switch {
	case r.Exact:
		return model.ModExact
	case r.Regex:
		return model.ModRegex
	}
	return model.ModPrefix
}

// LocationMatch is r's match as the location of a server block reads:
// `= "/p"`, `~* "re"` or `"/p"`.
func (r *Route) LocationMatch() string { return locationMatch(r.Modifier(), r.Path) }

// locationMatch is a location's modifier and path, quoted.
func locationMatch(mod model.Modifier, path string) string {
	return strings.TrimSpace(string(mod) + ` "` + path + `"`)
}

// Notes are the notes of terms, in their order.
func Notes(terms []RouteTerm) []string {
	var out []string
	for _, t := range terms {
		if t.Note != "" {
			out = append(out, t.Note)
		}
	}
	return out
}

// Terms are what the routed host h does before its routes, hsts being
// the Routes' Strict-Transport-Security value.
func (h *HostRoutes) Terms(hsts string) []RouteTerm {
	var out []RouteTerm
	if h.HSTS {
		out = append(out, RouteTerm{Directives: []string{"add_header Strict-Transport-Security $portico_hsts always;"},
			Note: "HTTPS answers carry Strict-Transport-Security: " + hsts})
	}
	if h.RedirectTo != "" {
		out = append(out, RouteTerm{Directives: []string{"return 308 $scheme://" + h.RedirectTo + "$request_uri;"},
			Note: "from-to-www-redirect: every request redirects (308) to " + h.RedirectTo})
	}
	if h.AppRoot != "" {
		out = append(out, RouteTerm{Directives: []string{`if ($uri = "/") { return 302 $scheme://$http_host` + h.AppRoot + "; }"},
			Note: fmt.Sprintf("app-root: \"/\" redirects (302) to %s before any route", h.AppRoot)})
	}
	return out
}

// Terms are what r does, in the order the router does it.
func (r *Route) Terms(c TermsContext) []RouteTerm {
	var out []RouteTerm
	add := func(note string, directives ...string) {
		out = append(out, RouteTerm{Directives: terminated(directives), Note: note})
	}
	if r.BodyLimit != nil {
		add(fmt.Sprintf("body limit %d bytes (0: none)", *r.BodyLimit), "client_max_body_size "+strconv.FormatInt(*r.BodyLimit, 10))
	}
	if r.SSLRedirect {
		u := "https://$host"
		if r.SSLRedirectPort && c.HTTPSPort != 0 {
			u += ":" + strconv.Itoa(c.HTTPSPort)
		}
		if r.SSLRedirectSlash {
			u += "$request_uri"
		} else {
			u += "$portico_uri_no_slash" // one trailing '/' dropped
		}
		add("plain HTTP redirected to HTTPS (308)", "if ($scheme = http) { return 308 "+u+"; }")
	}
	if rd := r.Redirect; rd != nil {
		add(fmt.Sprintf("answers %d to %s instead of proxying", rd.Code, rd.URL), fmt.Sprintf(`return %d "%s"`, rd.Code, rd.URL))
		return out
	}
	if r.Backend == "" {
		add("", "return 404")
		return out
	}
	if co := r.CORS; co != nil {
		origins := "any origin (*)"
		if !co.AnyOrigin {
			origins = "origins matching " + co.OriginRegex
		}
		add(fmt.Sprintf("CORS: preflights (OPTIONS) answered 204, Access-Control-* headers for %s (methods %s)", origins, co.Methods))
	}
	if sr := r.SourceRange; sr != nil {
		var ds []string
		for _, n := range sr.Deny {
			ds = append(ds, "deny "+cidrText(n))
		}
		for _, n := range sr.Allow {
			ds = append(ds, "allow "+cidrText(n))
		}
		if len(sr.Allow) > 0 {
			ds = append(ds, "deny all")
		}
		add(fmt.Sprintf("source range: %d allowed, %d denied networks (others get 403 when any is allowed)", len(sr.Allow), len(sr.Deny)), ds...)
	}
	var named *RouterLocation
	if r.Location != "" {
		if c.Router != nil {
			for i := range c.Router.Locations {
				if c.Router.Locations[i].Name == r.Location {
					named = &c.Router.Locations[i]
				}
			}
		}
		var ds []string
		if named != nil {
			ds = c.Router.Directives(*named)
		}
		add("proxied from nginx.conf's location "+r.Location+", which has its per-location proxy settings, gRPC, rate limits, custom errors, basic auth or auth-url", ds...)
	}
	if rl := r.RateLimit; rl != nil {
		add(fmt.Sprintf("rate limits there count each client address for this Ingress alone (scope %s; exempt networks: %d)", rl.Scope, len(rl.Allowlist)))
	}
	if ba := r.BasicAuth; ba != nil {
		file := ba.File
		if c.AuthDir != "" {
			file = c.AuthDir + "/" + file
		}
		add(fmt.Sprintf("basic auth there (realm %q, htpasswd file %s)", ba.Realm, ba.File),
			`auth_basic "`+ba.Realm+`"`, "auth_basic_user_file "+file)
	}
	if a := r.Auth; a != nil {
		note := fmt.Sprintf("auth-url there: %s %s must answer 2xx", a.Method, a.URL)
		if a.Signin != "" {
			note += "; a 401 redirects to " + a.Signin
		}
		add(note)
	}
	if e := r.Errors; e != nil {
		add("errors it intercepts served by " + e.Backend)
	}
	if d := r.DefaultBackend; d != nil {
		add("while its Service has no endpoint, served by " + d.Backend + " with X-Code 503 (default-backend) instead of 503")
	}
	if r.RewriteLog {
		add("the router logs the rewrite at notice level", "rewrite_log on")
	}
	if r.RewriteTarget != "" {
		add("URI rewritten to "+r.RewriteTarget, "rewrite "+rewritePattern(r.Regex, r.Path)+` "`+r.RewriteTarget+`" break`)
	}
	if r.ForwardedPrefix != "" {
		add("", `proxy_set_header X-Forwarded-Prefix "`+r.ForwardedPrefix+`"`)
	}
	if r.UpstreamVhost != "" {
		add("Host sent: "+r.UpstreamVhost, `proxy_set_header Host "`+r.UpstreamVhost+`"`)
	}
	for _, t := range []struct {
		name string
		s    int
	}{{"connect", r.ConnectTimeout}, {"send", r.SendTimeout}, {"read", r.ReadTimeout}} {
		if t.s > 0 {
			add("", fmt.Sprintf("proxy_%s_timeout %ds", t.name, t.s))
		}
	}
	directive, target := "proxy", "http://"+upstreamHTTP
	if named != nil {
		directive = named.Directive()
		if _, t := pass(named.Settings.Protocol); named.Settings.IsGRPC() {
			target = t
		}
	}
	switch {
	case r.Pass != "":
		add("proxied to "+r.Pass, `set $portico_backend "`+r.Backend+`"`, "proxy_pass "+r.Pass)
	default:
		add("", `set $portico_backend "`+r.Backend+`"`, directive+"_pass "+target)
	}
	return out
}

// terminated are directives each ending in ";", or "}" for a block.
func terminated(directives []string) []string {
	for i, d := range directives {
		if !strings.HasSuffix(d, "}") {
			directives[i] = d + ";"
		}
	}
	return directives
}

// cidrText is a network of a SourceRange ("<hex>/<bits>") as nginx
// writes it; the hex as it is when it is not one (the router refuses it).
func cidrText(n string) string {
	h, bits, _ := strings.Cut(n, "/")
	b, err := hex.DecodeString(h)
	addr, ok := netip.AddrFromSlice(b)
	l, berr := strconv.Atoi(bits)
	if err != nil || !ok || berr != nil {
		return n
	}
	if p, err := addr.Prefix(l); err == nil {
		return p.String()
	}
	return n
}
