package model

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Logging is where nginx's logs go and what the access log holds, from
// the ConfigMap's logging keys.
type Logging struct {
	// Escape is the access log's escaping of variables: "" (nginx's
	// default), "json" (log-format-escape-json) or "none"
	// (log-format-escape-none, which wins).
	Escape string `json:"escape,omitempty"`
	// AccessLogPath and ErrorLogPath are /dev/stdout, /dev/stderr or a
	// file under /var/log/ (ingress-nginx's default files, links to
	// standard output and error in its image, mean those).
	AccessLogPath string `json:"accessLogPath"`
	ErrorLogPath  string `json:"errorLogPath"`
	// AccessLogParams are access_log's parameters, each buffer=<size>,
	// gzip[=<level>] or flush=<time>; nil is Portico's buffering.
	AccessLogParams []string `json:"accessLogParams,omitempty"`
	// ErrorLogLevel is error_log's level, debug to emerg.
	ErrorLogLevel string `json:"errorLogLevel"`
	// Syslog, when set, takes both logs instead of their paths
	// (enable-syslog with syslog-host).
	Syslog *Syslog `json:"syslog,omitempty"`
	// SkipURLs are request URIs left out of the access log: exact, or a
	// regular expression after "~" (case-sensitive) or "~*".
	SkipURLs []string `json:"skipURLs,omitempty"`
}

// Syslog is a syslog server nginx sends its logs to over UDP.
type Syslog struct {
	// Host is an IP address or a DNS name (which nginx resolves when it
	// loads its configuration).
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Address is host:port as nginx's syslog:server= takes it.
func (s Syslog) Address() string {
	h := s.Host
	if a, err := netip.ParseAddr(h); err == nil && a.Is6() {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(s.Port)
}

// loggingBuild holds the logging keys while they are parsed.
type loggingBuild struct {
	l                      Logging
	escapeJSON, escapeNone bool
	httpAccessLogPath      string
	enableSyslog           bool
	syslogHost             string
	syslogPort             int
}

func defaultLogging() loggingBuild {
	return loggingBuild{l: Logging{AccessLogPath: "/dev/stdout", ErrorLogPath: "/dev/stderr", ErrorLogLevel: "notice"}, syslogPort: 514}
}

// finish gives the Logging in effect; it reports whether enable-syslog is
// on without a syslog-host (the logs then stay where they are).
func (lb loggingBuild) finish(g *Global) (syslogWithoutHost bool) {
	l := lb.l
	if lb.httpAccessLogPath != "" {
		l.AccessLogPath = lb.httpAccessLogPath
	}
	switch {
	case lb.escapeNone:
		l.Escape = "none"
	case lb.escapeJSON:
		l.Escape = "json"
	}
	if lb.enableSyslog && lb.syslogHost != "" {
		l.Syslog = &Syslog{Host: lb.syslogHost, Port: lb.syslogPort}
	}
	g.Logging = l
	return lb.enableSyslog && lb.syslogHost == ""
}

// defaultLogFormat is the access log format when log-format-upstream is unset.
const defaultLogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent ` +
	`"$http_referer" "$http_user_agent" $request_length $request_time ` +
	`[$portico_backend] $upstream_addr $upstream_status $upstream_response_time`

const maxLogFormat = 4096

// logLiteral is what a log format may hold besides variables: printable
// ASCII but the single quote nginx.conf prints it in and the backslash
// (so JSON formats, with their quotes and braces, pass).
var logLiteral = regexp.MustCompile(`^[ !"#%-&(-\[\]-~]*$`)

// logVariables are the nginx variables a log format may name, and
// logVariablePrefixes the families of them (request, response and
// upstream headers, cookies, trailers, arguments): those nginx 1.22
// documents for the modules Portico's nginx has (core, log, upstream,
// proxy, realip, ssl, gzip, http2, limit_req, limit_conn, stub_status,
// userid); the Lua module documents none of its own. Portico's own
// (PorticoLogVariables) and ingress-nginx's (IngressNginxLogVariables)
// come on top. render's tests run nginx -t on a format naming them all.
var (
	logVariables = map[string]bool{}
	// LogVariablePrefixes name the families of variables.
	LogVariablePrefixes = []string{"arg_", "cookie_", "http_", "sent_http_", "sent_trailer_", "upstream_cookie_",
		"upstream_http_", "upstream_trailer_"}
	// NginxLogVariables are nginx's variables a format may name.
	NginxLogVariables = strings.Fields(`args binary_remote_addr body_bytes_sent bytes_sent connection connection_requests
		connection_time content_length content_type document_root document_uri host hostname https is_args
		limit_rate msec nginx_version pid pipe proxy_protocol_addr proxy_protocol_port proxy_protocol_server_addr
		proxy_protocol_server_port query_string realpath_root remote_addr remote_port remote_user request
		request_body request_completion request_filename request_id request_length request_method
		request_time request_uri scheme server_addr server_name server_port server_protocol status
		tcpinfo_rtt tcpinfo_rttvar tcpinfo_snd_cwnd tcpinfo_rcv_space time_iso8601 time_local uri
		upstream_addr upstream_bytes_received upstream_bytes_sent upstream_cache_status upstream_connect_time
		upstream_header_time upstream_response_length upstream_response_time upstream_status
		proxy_host proxy_port proxy_add_x_forwarded_for realip_remote_addr realip_remote_port
		ssl_cipher ssl_ciphers ssl_client_escaped_cert ssl_client_fingerprint ssl_client_i_dn ssl_client_i_dn_legacy
		ssl_client_raw_cert ssl_client_s_dn ssl_client_s_dn_legacy ssl_client_serial ssl_client_v_end
		ssl_client_v_remain ssl_client_v_start ssl_client_verify ssl_curve ssl_curves ssl_early_data ssl_protocol
		ssl_server_name ssl_session_id ssl_session_reused ssl_alpn_protocol gzip_ratio http2 limit_req_status
		limit_conn_status connections_active connections_reading connections_writing connections_waiting
		uid_got uid_reset uid_set`)
	// PorticoLogVariables are the route's labels Portico sets: its
	// backend ("namespace/service:port"), Ingress ("namespace/name"),
	// server (host) and Ingress path.
	PorticoLogVariables = []string{"portico_backend", "portico_ingress", "portico_server", "portico_path"}
	// IngressNginxLogVariables are the variables ingress-nginx's formats
	// name that are not nginx's, with what each stands for.
	IngressNginxLogVariables = map[string]string{
		"req_id":                          "X-Request-ID: the client's, or the one made for it",
		"proxy_upstream_name":             "the backend as ingress-nginx names it: namespace-service-port",
		"proxy_alternative_upstream_name": "empty: Portico does not log which canary answered",
		"namespace":                       "the Ingress's namespace",
		"ingress_name":                    "the Ingress's name",
		"service_name":                    "the backend Service's name",
		"service_port":                    "the backend Service's port, as the Ingress names it",
		"location_path":                   "the Ingress path",
	}
)

func init() {
	for _, vs := range [][]string{NginxLogVariables, PorticoLogVariables} {
		for _, v := range vs {
			logVariables[v] = true
		}
	}
	for v := range IngressNginxLogVariables {
		logVariables[v] = true
	}
}

// logVariableName is a variable name after '$'.
var logVariableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*`)

// logFormatPart is a part of a log format: literal text, or a variable:
// its name (without '$' and braces) and raw, as the format wrote it.
type logFormatPart struct {
	text, raw string
	variable  bool
}

// splitLogFormat splits v into literal text and variables ($name or
// ${name}); want is what v must look like when it does not.
func splitLogFormat(v string) (parts []logFormatPart, want string) {
	if v == "" || len(v) > maxLogFormat {
		return nil, fmt.Sprintf("a non-empty format of at most %d characters", maxLogFormat)
	}
	return splitVariables(v, logLiteral, "nginx variables ($name or ${name}) and printable ASCII but ' and \\")
}

// splitVariables splits v into text that literal matches and the
// variables a log format may name ($name or ${name}); want is grammar
// when v is not that.
func splitVariables(v string, literal *regexp.Regexp, grammar string) (parts []logFormatPart, want string) {
	rest := v
	for rest != "" {
		lit, after, found := strings.Cut(rest, "$")
		if !literal.MatchString(lit) {
			return nil, grammar
		}
		if lit != "" {
			parts = append(parts, logFormatPart{text: lit})
		}
		if !found {
			break
		}
		braced := strings.HasPrefix(after, "{")
		name := logVariableName.FindString(strings.TrimPrefix(after, "{"))
		n := len(name)
		if braced {
			if !strings.HasPrefix(after[1+n:], "}") {
				return nil, grammar
			}
			n += 2
		}
		if !knownLogVariable(name) {
			return nil, fmt.Sprintf("%s; $%s is not a variable Portico knows", grammar, truncate(after[:min(max(n, 1), len(after))]))
		}
		parts = append(parts, logFormatPart{text: name, raw: "$" + after[:n], variable: true})
		rest = after[n:]
	}
	return parts, ""
}

func checkLogFormat(v string) string {
	_, want := splitLogFormat(v)
	return want
}

func knownLogVariable(name string) bool {
	if logVariables[name] || geoIP2Variable[name] {
		return true
	}
	for _, p := range LogVariablePrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return true
		}
	}
	return false
}

// MapLogFormat is a valid log format f with each variable for whose name
// (without '$') replace returns ok replaced by what it returns: another
// variable (as "${x}", so that no letter after it joins it) or literal
// text; the others stay as f wrote them.
func MapLogFormat(f string, replace func(name string) (string, bool)) string {
	parts, _ := splitLogFormat(f)
	var sb strings.Builder
	for _, p := range parts {
		if !p.variable {
			sb.WriteString(p.text)
		} else if r, ok := replace(p.text); ok {
			sb.WriteString(r)
		} else {
			sb.WriteString(p.raw)
		}
	}
	return sb.String()
}

// LogFormatVariables are the names of the variables valid log format f
// names, in order.
func LogFormatVariables(f string) []string {
	parts, _ := splitLogFormat(f)
	var out []string
	for _, p := range parts {
		if p.variable {
			out = append(out, p.text)
		}
	}
	return out
}

// logFilePath is a log file Portico lets nginx write: under /var/log/,
// of letters, digits and ._-, without . or .. segments.
var logFilePath = regexp.MustCompile(`^/var/log(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})+$`)

// logPathOption parses access-log-path or error-log-path; ingressNginx is
// ingress-nginx's default file, which its image links to std.
func logPathOption(ingressNginx, std string, field func(*globalBuild) *string) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		switch {
		case v == ingressNginx:
			v = std
		case v == "/dev/stdout", v == "/dev/stderr":
		case !logFilePath.MatchString(v) || strings.Contains(v, "/../") || strings.HasSuffix(v, "/..") || strings.Contains(v, "/./"):
			return "/dev/stdout, /dev/stderr or a file under /var/log/ (letters, digits and ._-)"
		}
		*field(b) = v
		return ""
	}
}

var (
	logBuffer = regexp.MustCompile(`^buffer=[1-9][0-9]{0,5}[kKmM]?$`)
	logGzip   = regexp.MustCompile(`^gzip(=[1-9])?$`)
	logFlush  = regexp.MustCompile(`^flush=[1-9][0-9]{0,4}(ms|s|m|h)?$`)
)

// parseAccessLogParams parses access-log-params: space- or
// comma-separated buffer=<size>, gzip[=<level>] and flush=<time>, each at
// most once (access_log's own if= is Portico's, for skip-access-log-urls).
func parseAccessLogParams(v string) ([]string, bool) {
	fs := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	seen := map[string]bool{}
	for _, f := range fs {
		kind, _, _ := strings.Cut(f, "=")
		if seen[kind] || !(logBuffer.MatchString(f) || logGzip.MatchString(f) || logFlush.MatchString(f)) {
			return nil, false
		}
		seen[kind] = true
	}
	// nginx takes flush only with a buffer (gzip makes one).
	if seen["flush"] && !seen["buffer"] && !seen["gzip"] {
		return nil, false
	}
	return fs, len(fs) > 0
}

var errorLogLevels = map[string]bool{"debug": true, "info": true, "notice": true, "warn": true, "error": true,
	"crit": true, "alert": true, "emerg": true}

// skipURL is an entry of skip-access-log-urls: an exact request URI, or
// a regular expression after ~ or ~*: printable ASCII without spaces,
// quotes, and backslashes but before a character (nginx.conf would read
// \" and \\ itself).
var (
	skipExact = regexp.MustCompile(`^/[A-Za-z0-9\-._~/!&()*+,=:@%?]*$`)
	skipRegex = regexp.MustCompile(`^~\*?(?:[!#-&(-\[\]-~]|\\[^"\\'\x00-\x20\x7f-\xff])+$`)
)

// parseSkipURLs parses skip-access-log-urls: comma-separated entries.
func parseSkipURLs(v string) ([]string, bool) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case len(f) > 1024:
			return nil, false
		case skipExact.MatchString(f):
		case skipRegex.MatchString(f):
			re := strings.TrimPrefix(strings.TrimPrefix(f, "~"), "*")
			if _, err := regexp.Compile(re); err != nil {
				return nil, false
			}
		default:
			return nil, false
		}
		out = append(out, f)
	}
	return out, len(out) > 0 && len(out) <= 256
}

// syslogHostValue is syslog-host: an IP address or a DNS name.
func syslogHostValue(v string) bool {
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Zone() == ""
	}
	_, err := parseHost(v)
	return err == nil && !strings.HasPrefix(v, "*.")
}
