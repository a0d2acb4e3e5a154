package plan

import (
	"fmt"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Extras are what nginx applies per location besides the proxy settings:
// how nginx completes its redirects to a path, the headers set on every
// answer (custom-headers), satisfy any, the mirror and the FastCGI
// parameters. A server block's location and a router location carry the
// same.
type Extras struct {
	// PortInRedirect and RelativeRedirect are port_in_redirect on and
	// absolute_redirect off, which differ from the http level's.
	PortInRedirect   bool `json:"portInRedirect,omitempty"`
	RelativeRedirect bool `json:"relativeRedirect,omitempty"`
	// ResponseHeaders are set on every answer (more_set_headers).
	ResponseHeaders []model.KeyValue `json:"responseHeaders,omitempty"`
	// SatisfyAny lets a request in that passes the address check or the
	// auth (satisfy any). The Lua access phase would not run once one of
	// them lets the request in, so the location's Lua runs in the rewrite
	// phase (Phase).
	SatisfyAny bool `json:"satisfyAny,omitempty"`
	// Mirror is "on" (the copy carries the body) or "off" when the
	// location mirrors its requests to MirrorLocation; "" for none.
	Mirror string `json:"mirror,omitempty"`
	// FastCGI are the parameters of an FCGI location, after
	// FastCGIParams.
	FastCGI *model.FastCGI `json:"fastCGI,omitempty"`
}

// IsZero reports whether e adds nothing.
func (e Extras) IsZero() bool {
	return !e.PortInRedirect && !e.RelativeRedirect && len(e.ResponseHeaders) == 0 && !e.SatisfyAny && e.Mirror == "" && e.FastCGI == nil
}

// extrasOf are the Extras of l in nginx.conf whose http level has g's
// relative-redirects. A router location (routed) needs no redirect form:
// the router writes the redirects of its routes itself (Route).
func extrasOf(l *model.Location, g *model.Global, routed bool) Extras {
	e := Extras{ResponseHeaders: l.ResponseHeaders, SatisfyAny: l.Satisfy == "any", FastCGI: l.FastCGI}
	if !routed {
		e.PortInRedirect = l.Redirects.Port
		e.RelativeRedirect = l.Redirects.Relative && !g.RelativeRedirects
	}
	if m := l.Mirror; m != nil {
		e.Mirror = "on"
		if m.NoBody {
			e.Mirror = "off"
		}
	}
	return e
}

// Phase is the phase the location's Lua runs in: "access", or "rewrite"
// with satisfy any.
func (e Extras) Phase() string {
	if e.SatisfyAny {
		return "rewrite"
	}
	return "access"
}

// directives are e's; mirror is the internal location of the copies.
func (e Extras) directives(mirror string) []string {
	var out []string
	if e.PortInRedirect {
		out = append(out, "port_in_redirect on")
	}
	if e.RelativeRedirect {
		out = append(out, "absolute_redirect off")
	}
	if e.SatisfyAny {
		out = append(out, "satisfy any")
	}
	for _, h := range e.ResponseHeaders {
		out = append(out, fmt.Sprintf(`more_set_headers "%s: %s"`, h.Name, nginxString(h.Value)))
	}
	if e.Mirror != "" {
		out = append(out, fmt.Sprintf(`mirror "%s"`, mirror), "mirror_request_body "+e.Mirror)
	}
	if f := e.FastCGI; f != nil {
		for _, p := range FastCGIParams {
			out = append(out, "fastcgi_param "+p.Name+" "+p.Value)
		}
		for _, p := range f.Params {
			out = append(out, fmt.Sprintf(`fastcgi_param %s "%s"`, p.Name, p.Value))
		}
		if f.Index != "" {
			out = append(out, fmt.Sprintf(`fastcgi_index "%s"`, f.Index))
		}
	}
	return out
}

// nginxString is v, a value of printable ASCII, for a double-quoted nginx
// string that keeps it literal: '\\' and '"' escaped, '$' as the variable
// $portico_dollar (nginx has no escape for it).
func nginxString(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `${portico_dollar}`).Replace(v)
}

// FastCGIParams are the CGI parameters of every FastCGI request, those of
// nginx's fastcgi_params file (which ingress-nginx includes): the request,
// the script's name (with fastcgi-index for a URI ending in '/'), the
// client and the server. SERVER_NAME is the request's host ($host): a
// routed host's server is the catch-all one, whose $server_name is "_".
var FastCGIParams = []Header{
	{"QUERY_STRING", "$query_string"}, {"REQUEST_METHOD", "$request_method"}, {"CONTENT_TYPE", "$content_type"},
	{"CONTENT_LENGTH", "$content_length"}, {"SCRIPT_NAME", "$fastcgi_script_name"}, {"REQUEST_URI", "$request_uri"},
	{"DOCUMENT_URI", "$document_uri"}, {"DOCUMENT_ROOT", "$document_root"}, {"SERVER_PROTOCOL", "$server_protocol"},
	{"REQUEST_SCHEME", "$scheme"}, {"HTTPS", "$https if_not_empty"}, {"GATEWAY_INTERFACE", "CGI/1.1"},
	{"SERVER_SOFTWARE", "nginx/$nginx_version"}, {"REMOTE_ADDR", "$remote_addr"}, {"REMOTE_PORT", "$remote_port"},
	{"REMOTE_USER", "$remote_user"}, {"SERVER_ADDR", "$server_addr"}, {"SERVER_PORT", "$server_port"},
	{"SERVER_NAME", "$host"}, {"REDIRECT_STATUS", "200"},
}

// mirrorTarget is the URL nginx sends m's copies to: m's target, with
// the query string when it has a path but no variable (nginx's proxy_pass
// with a path appends it), or the request URI when it has neither.
func mirrorTarget(m *annotations.Mirror) string {
	switch {
	case m.HasVariables():
		return m.Target
	case m.HasPath():
		return m.Target + "$is_args$args"
	}
	return m.Target + "$request_uri"
}
