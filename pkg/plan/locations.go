package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Location is a location of a server block: the model's, with how nginx
// carries it.
type Location struct {
	*model.Location
	HTTP *HTTP
	// Modifier and Path are the location's match ("= /p", "~* re").
	Match string
	// Directive is the prefix of the directives that pass the request
	// ("proxy", "grpc" for gRPC backends, "fastcgi" for FastCGI); Pass
	// their target, an upstream of the balancer.
	Directive, Pass string
	// Settings are the directives of its proxy settings and proxy-ssl,
	// then those of its Extras.
	Settings []string
	// Extras are what it adds besides the proxy settings.
	Extras Extras
	// SSLRedirectURL is where plain HTTP goes with SSLRedirect.
	SSLRedirectURL string
	// MirrorLocation is the internal location that sends the copies of
	// Mirror to MirrorTarget (variables of the request's URI) with Host
	// MirrorHost.
	MirrorLocation, MirrorTarget, MirrorHost string
	// SetHeaders, when set, are every header the location sends: it sends
	// one of its own (Headers, upstream-vhost), and nginx inherits none
	// of the http level's then.
	SetHeaders []Header
	// RewritePattern is what rewrite-target matches: the location's
	// regex (only a regex location rewrites), case-insensitive.
	RewritePattern string
	// MatchCN is the server's auth-tls-match-cn: after the redirect to
	// HTTPS, a client certificate whose subject does not match gets 403.
	MatchCN string
	// RepeatHSTS sends Strict-Transport-Security again: the location's
	// CORS headers replace the server's add_header.
	RepeatHSTS bool
	// AccessMakesRequestID: the access phase's Lua makes X-Request-ID.
	AccessMakesRequestID bool
	// Propagate is the access phase's Lua call that sends the backend a
	// traceparent, Finish the log phase's that ends nginx's span; "" when
	// the location does not trace.
	Propagate, Finish string
	// DefaultBackend is the Lua table of the default backend the access
	// phase hands the request to while Backend has no endpoint; "" for
	// none (nil).
	DefaultBackend string
	// Limits are the location's Ingress's limit zones.
	Limits *LimitZones
	// Auth is the internal location of its auth subrequest (auth-url, the
	// global auth); Signin (its 401 redirect) and ErrorPages (custom
	// errors, one per code) are internal locations too. They are named
	// after the location's index: Ingress paths hold neither ';' nor '@',
	// so none can collide with them.
	Auth       *AuthLocation
	Signin     *Signin
	ErrorPages []ErrorPage
}

// Signin is the named location that redirects a 401 of the auth service
// to the sign-in page: to URL, followed, when it Appends, by the
// request's URL or, with Mode "request-uri", its URI, escaped
// (router.lua's signin_rd).
type Signin struct {
	Name, URL, Mode string
	Appends         bool
}

// LimitZones are the limit zones of one Ingress's locations in server
// blocks, keyed by client address: Zone-rps, Zone-rpm and Zone-conn.
type LimitZones struct {
	*model.RateLimit
	// Zone is "portico_rl_" and the limits' scope.
	Zone string
	// Key is the zones' key: Var, or Exempt's map, which is Var but
	// empty (not limited) for the allowlisted addresses.
	Key string
	// Var is what the zones count by (limit-conn-zone-variable).
	Var string
	// Exempt is the variable a geo block sets to 1 for Allowlist.
	Exempt string
}

func limitZones(rl *model.RateLimit, variable string) *LimitZones {
	z := &LimitZones{RateLimit: rl, Zone: "portico_rl_" + rl.Scope, Key: variable, Var: variable}
	if len(rl.Allowlist) > 0 {
		z.Exempt, z.Key = "$"+z.Zone+"_exempt", "$"+z.Zone+"_key"
	}
	return z
}

// locationsOf are the views of the locations of s, whose server block is
// v; zones are the limit zones by their model's.
func (h *HTTP) locationsOf(s *model.Server, v *Server, zones map[*model.RateLimit]*LimitZones) []*Location {
	out := make([]*Location, 0, len(s.Locations))
	for i, l := range s.Locations {
		// CORS's headers and the auth answer's Set-Cookie are add_headers of
		// the location, which replace the server's.
		loc := &Location{Location: l, HTTP: h, Match: locationMatch(l.Modifier, l.Path),
			RepeatHSTS: (l.CORS != nil || l.ExternalAuth != nil) && v.HSTS, AccessMakesRequestID: v.AccessMakesRequestID}
		loc.Directive, loc.Pass = pass(l.Proxy.Protocol)
		loc.Extras = extrasOf(l, &h.Global, false)
		if m := l.Mirror; m != nil {
			loc.MirrorLocation, loc.MirrorTarget, loc.MirrorHost = fmt.Sprintf("/;portico-mirror-%d", i), mirrorTarget(m), m.Host
		}
		loc.Propagate, loc.Finish = propagation(h.Tracing, l.Tracing), finish(h.Tracing, l.Tracing, l)
		loc.Settings = append(h.settingsDirectives(l.Proxy), loc.Extras.directives(loc.MirrorLocation)...)
		loc.Settings = append(loc.Settings, h.WAF.directives(l.ModSecurity)...)
		if l.SSLRedirect {
			loc.SSLRedirectURL = h.sslRedirectURL(l.Redirects)
		}
		if s.ClientTLS != nil {
			loc.MatchCN = s.ClientTLS.MatchCN
		}
		if l.RewriteTarget != "" {
			loc.RewritePattern = rewritePattern(l.Modifier == model.ModRegex, l.Path)
		}
		if l.RateLimit != nil {
			loc.Limits = zones[l.RateLimit]
		}
		if (l.Proxy.UpstreamVhost != "" || len(l.Headers) > 0 || loc.Directive == "grpc" || l.Proxy.ConnectionHeader != "") && loc.Directive != "fastcgi" {
			host := "$portico_host"
			if vh := l.Proxy.UpstreamVhost; vh != "" {
				host = `"` + vh + `"`
			}
			loc.SetHeaders = append([]Header{{"Host", host}}, h.forwardHeaders(loc.Directive == "grpc")...)
			connectionHeader(loc.SetHeaders, l.Proxy.ConnectionHeader)
			for _, hd := range l.Headers {
				value := `"` + hd.Value + `"`
				if hd.Var != "" {
					value = "$" + hd.Var
				}
				loc.SetHeaders = append(loc.SetHeaders, Header{hd.Name, value})
			}
		}
		if ea := l.ExternalAuth; ea != nil {
			loc.Auth = h.staticAuth(fmt.Sprintf("/;portico-auth-%d", i), s.Host, l, s.ClientTLS)
			if ea.Signin != nil {
				loc.Signin = &Signin{Name: fmt.Sprintf("@portico_signin_%d", i), URL: ea.SigninPrefix(), Mode: string(ea.SigninRD),
					Appends: ea.SigninRD != annotations.RDNone}
			}
		}
		if d := l.DefaultBackend; d != nil {
			loc.DefaultBackend = routeErrors(*d).luaTable()
		}
		if e := l.Errors; e != nil {
			loc.ErrorPages = errorPages(fmt.Sprintf("@portico_error_%d", i), e.Codes, func(code int) []Header {
				return h.errorPageHeaders(code, `"`+e.Ingress.Namespace+`"`, `"`+e.Ingress.Name+`"`, `"`+e.Service+`"`, `"`+e.Port+`"`)
			})
		}
		out = append(out, loc)
	}
	return out
}

// rewritePattern is what rewrite-target matches in a location of path:
// the regex path, or "^" for the whole URI.
func rewritePattern(regex bool, path string) string {
	if regex {
		return `"(?i)` + path + `"`
	}
	return "^"
}

// fastCGIConditions are the conditions of next that directive prefix d
// takes: nginx's fastcgi_next_upstream has no http_502 and http_504.
func fastCGIConditions(d string, next []string) []string {
	if d != "fastcgi" {
		return next
	}
	return slices.DeleteFunc(slices.Clone(next), func(c string) bool { return c == "http_502" || c == "http_504" })
}

// connectionHeader sets the Connection header of hs to value
// (connection-proxy-header), unless value is "".
func connectionHeader(hs []Header, value string) {
	for i := range hs {
		if hs[i].Name == "Connection" && value != "" {
			hs[i].Value = `"` + value + `"`
		}
	}
}

// sslRedirectURL is where a location with redirect form f sends plain
// HTTP, as ingress-nginx writes it: the Host without a port, or with the
// HTTPS port (use-port-in-redirects), and the request URI without a
// trailing '/' unless preserve-trailing-slash.
func (h *HTTP) sslRedirectURL(f annotations.RedirectForm) string {
	u := "https://$host"
	if f.Port {
		u += ":" + strconv.Itoa(h.HTTPSPort)
	}
	if f.KeepTrailingSlash {
		return u + "$request_uri"
	}
	return u + "$portico_uri_no_slash"
}

// pass is how a location with backend protocol proto passes requests:
// the prefix of its directives and the upstream, one per scheme.
func pass(proto annotations.BackendProtocol) (directive, target string) {
	switch proto {
	case annotations.ProtoHTTPS:
		return "proxy", "https://" + upstreamHTTPS
	case annotations.ProtoAutoHTTP:
		return "proxy", "$portico_auto_pass"
	case annotations.ProtoFCGI:
		return "fastcgi", upstreamFCGI
	case annotations.ProtoGRPC:
		return "grpc", "grpc://" + upstreamGRPC
	case annotations.ProtoGRPCS:
		return "grpc", "grpcs://" + upstreamGRPCS
	}
	return "proxy", "http://" + upstreamHTTP
}

// settingsDirectives are the directives of the proxy settings p nginx
// applies per location (the zero ones keep the http level's), then those
// of its proxy-ssl, whose files are in AuthDir.
func (h *HTTP) settingsDirectives(p annotations.Proxy) []string {
	authDir := h.AuthDir
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if p.BodySize != "" {
		add("client_max_body_size %s", p.BodySize)
	}
	if p.BodyBufferSize != "" {
		add("client_body_buffer_size %s", p.BodyBufferSize)
	}
	if p.NoAccessLog {
		add("access_log off")
	}
	if p.RewriteLog {
		add("rewrite_log on")
	}
	if p.LimitRate != nil {
		add("limit_rate %dk", *p.LimitRate)
	}
	if p.LimitRateAfter != nil {
		add("limit_rate_after %dk", *p.LimitRateAfter)
	}
	d, _ := pass(p.Protocol)
	if p.ConnectTimeout != 0 {
		add("%s_connect_timeout %ds", d, p.ConnectTimeout)
	}
	if p.SendTimeout != 0 {
		add("%s_send_timeout %ds", d, p.SendTimeout)
	}
	if p.ReadTimeout != 0 {
		add("%s_read_timeout %ds", d, p.ReadTimeout)
	}
	if p.IsGRPC() {
		// gRPC's buffers are one size; it has no temporary files, request
		// buffering, HTTP version or rewrites of answers.
		if p.BufferSize != "" {
			add("grpc_buffer_size %s", p.BufferSize)
		}
	} else {
		// FastCGI's buffers are proxy's, under its own prefix.
		if p.Buffering != "" {
			add("%s_buffering %s", d, p.Buffering)
		}
		if p.BufferSize != "" {
			add("%s_buffer_size %s", d, p.BufferSize)
			add("%s_buffers %d %s", d, p.Buffers(), p.BufferSize)
			add("%s_busy_buffers_size %s", d, cmp.Or(p.BusyBuffersSize, p.BufferSize))
		}
		if p.MaxTempFileSize != "" {
			add("%s_max_temp_file_size %s", d, p.MaxTempFileSize)
		}
		if p.RequestBuffering != "" {
			add("%s_request_buffering %s", d, p.RequestBuffering)
		}
	}
	if next := fastCGIConditions(d, p.NextUpstream); len(next) > 0 {
		add("%s_next_upstream %s", d, nextUpstream(next, h.RetryNonIdempotent))
	}
	if p.NextUpstreamTries != nil {
		add("%s_next_upstream_tries %d", d, *p.NextUpstreamTries)
	}
	if p.NextUpstreamTimeout != nil {
		add("%s_next_upstream_timeout %ds", d, *p.NextUpstreamTimeout)
	}
	if d == "proxy" {
		if p.HTTPVersion != "" {
			add("proxy_http_version %s", p.HTTPVersion)
		}
		for _, r := range []struct {
			directive string
			rw        *annotations.Rewrite
		}{{"proxy_redirect", p.Redirect}, {"proxy_cookie_domain", p.CookieDomain}, {"proxy_cookie_path", p.CookiePath}} {
			switch {
			case r.rw == nil:
			case r.rw.Off:
				add("%s off", r.directive)
			default:
				add(`%s "%s" "%s"`, r.directive, r.rw.From, r.rw.To)
			}
		}
	}
	if s := p.SSL; s != nil && d != "fastcgi" {
		add("%s_ssl_trusted_certificate %s/%s", d, authDir, s.Trusted)
		if s.Cert != "" {
			add("%s_ssl_certificate %s/%s", d, authDir, s.Cert)
			add("%s_ssl_certificate_key %s/%s", d, authDir, s.Key)
		}
		if s.Verify != "" {
			add("%s_ssl_verify %s", d, s.Verify)
		}
		if s.Depth != 0 {
			add("%s_ssl_verify_depth %s", d, strconv.Itoa(s.Depth))
		}
		if s.Name != "" {
			add("%s_ssl_name %s", d, s.Name)
		}
		if s.ServerName != "" {
			add("%s_ssl_server_name %s", d, s.ServerName)
		}
		if len(s.Protocols) > 0 {
			add("%s_ssl_protocols %s", d, strings.Join(s.Protocols, " "))
		}
		if s.Ciphers != "" {
			add(`%s_ssl_ciphers "%s"`, d, s.Ciphers)
		}
	}
	return out
}

// luaTable prints e as the Lua table the balancer's access takes for a
// default backend: every value is a validated name (a Backend name, a
// namespace, an Ingress or Service name, a port), which %q quotes for
// Lua as for Go.
func (e *RouteErrors) luaTable() string {
	return fmt.Sprintf("{backend = %q, namespace = %q, ingress = %q, service = %q, port = %q}", e.Backend, e.Namespace, e.Ingress, e.Service, e.Port)
}
