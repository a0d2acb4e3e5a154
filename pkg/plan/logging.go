package plan

import (
	"slices"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// Logs is what nginx.conf prints of the logs: log_format, access_log and
// error_log, and the maps the format's variables need.
type Logs struct {
	// Format is log_format's: the model's, with ingress-nginx's variables
	// as Portico's (logVariables); Escape its escape= ("" for nginx's).
	Format, Escape string
	// Access is access_log's destination (a file or syslog:server=...)
	// and Params its parameters; "" when there is no access log.
	// Buffered: Params are Portico's (access-log-params is unset).
	Access, Params string
	Buffered       bool
	// Skip are the request URIs of skip-access-log-urls, quoted map
	// sources: access_log then logs only if $portico_loggable.
	Skip []string
	// StderrLevel is the level of error_log stderr, which stays for the
	// [emerg] lines the controller reads (emerg when the error log goes
	// elsewhere); Error and ErrorLevel are the error log's other
	// destination and level, "" when it is standard error.
	StderrLevel, Error, ErrorLevel string
	// Maps over the route's labels that the format's ingress-nginx
	// variables need: $portico_upstream_name, $portico_service_name and
	// $portico_service_port of $portico_backend; $portico_namespace and
	// $portico_ingress_name of $portico_ingress.
	UpstreamName, ServiceName, ServicePort, Namespace, IngressName bool
}

// defaultAccessLogParams buffer the access log: one write per 64 KiB or
// per second, not one per request.
const defaultAccessLogParams = "buffer=64k flush=1s"

// logVariables are the variables of ingress-nginx's formats as nginx.conf
// prints them; set marks those a map of logsOf makes.
var logVariables = map[string]struct {
	as  string
	set func(*Logs)
}{
	"req_id":                          {as: "${portico_request_id}"},
	"proxy_upstream_name":             {"${portico_upstream_name}", func(l *Logs) { l.UpstreamName = true }},
	"proxy_alternative_upstream_name": {as: ""},
	"namespace":                       {"${portico_namespace}", func(l *Logs) { l.Namespace = true }},
	"ingress_name":                    {"${portico_ingress_name}", func(l *Logs) { l.IngressName = true }},
	"service_name":                    {"${portico_service_name}", func(l *Logs) { l.ServiceName = true }},
	"service_port":                    {"${portico_service_port}", func(l *Logs) { l.ServicePort = true }},
	"location_path":                   {as: "${portico_path}"},
}

// routeLabelVariables are the variables of a log format that need the
// route's labels besides $portico_backend, which the router always sets;
// requestIDVariables those that log X-Request-ID.
var (
	routeLabelVariables = []string{"portico_server", "portico_ingress", "portico_path", "namespace", "ingress_name", "location_path"}
	requestIDVariables  = []string{"request_id", "req_id"}
)

// logsOf is what nginx.conf prints of g's logs.
func logsOf(g model.Global) Logs {
	l := g.Logging
	out := Logs{Escape: l.Escape, Access: l.AccessLogPath, Params: defaultAccessLogParams, ErrorLevel: l.ErrorLogLevel, StderrLevel: "emerg"}
	out.Format = model.MapLogFormat(g.LogFormat, func(name string) (string, bool) {
		v, ok := logVariables[name]
		if ok && v.set != nil {
			v.set(&out)
		}
		return v.as, ok
	})
	out.Buffered = l.AccessLogParams == nil
	if !out.Buffered {
		out.Params = strings.Join(l.AccessLogParams, " ")
	}
	switch {
	case l.Syslog != nil:
		// nginx buffers no syslog lines.
		out.Access, out.Params, out.Buffered = "syslog:server="+l.Syslog.Address(), "", false
		out.Error = out.Access
	case l.ErrorLogPath == "/dev/stderr":
		out.StderrLevel, out.ErrorLevel = l.ErrorLogLevel, ""
	default:
		out.Error = l.ErrorLogPath
	}
	if !g.AccessLog {
		out.Access, out.Params, out.Buffered = "", "", false
	}
	for _, u := range l.SkipURLs {
		out.Skip = append(out.Skip, `"`+u+`"`)
	}
	return out
}

// logsAny reports whether the access log names any of vars.
func logsAny(g model.Global, vars []string) bool {
	if !g.AccessLog {
		return false // no variable is logged
	}
	for _, v := range model.LogFormatVariables(g.LogFormat) {
		if slices.Contains(vars, v) {
			return true
		}
	}
	return false
}
