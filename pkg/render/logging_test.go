package render

import (
	"sort"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// ingressNginxJSON is a JSON format as ingress-nginx's docs write one,
// with ingress-nginx's own variables.
const ingressNginxJSON = `{"time": "$time_iso8601", "remote_addr": "$proxy_protocol_addr", "request_id": "$req_id", ` +
	`"status": $status, "upstream": "$proxy_upstream_name", "alt": "$proxy_alternative_upstream_name", ` +
	`"namespace": "$namespace", "ingress": "$ingress_name", "service": "${service_name}:$service_port", "path": "$location_path"}`

// loggingOptions set the logging keys to values other than their
// defaults.
var loggingOptions = map[string]string{
	"log-format-upstream": ingressNginxJSON, "log-format-escape-json": "true",
	"access-log-path": "/var/log/portico/access.log", "access-log-params": "buffer=16k, gzip=2, flush=5s",
	"error-log-path": "/var/log/portico/error.log", "error-log-level": "warn",
	"skip-access-log-urls": "/healthz, ~*^/ready, ~^/metrics\\?x=[0-9]+$",
}

// The logging keys print log_format with escape=, ingress-nginx's
// variables as Portico's (and the maps that make them), access_log with
// its parameters and skip map, and error_log beside standard error's
// [emerg]; syslog takes both logs.
func TestRenderLogging(t *testing.T) {
	s := renderConf(t, configWith(t, loggingOptions, testOptions))
	wantIn(t, "nginx.conf", s,
		"\nerror_log stderr emerg;\nerror_log /var/log/portico/error.log warn;\n",
		`log_format portico escape=json '{"time": "$time_iso8601", "remote_addr": "$proxy_protocol_addr", "request_id": "${portico_request_id}", `+
			`"status": $status, "upstream": "${portico_upstream_name}", "alt": "", "namespace": "${portico_namespace}", `+
			`"ingress": "${portico_ingress_name}", "service": "${portico_service_name}:${portico_service_port}", "path": "${portico_path}"}';`,
		"\n    map $request_uri $portico_loggable {\n        \"/healthz\" 0;\n        \"~*^/ready\" 0;\n        \"~^/metrics\\?x=[0-9]+$\" 0;\n        default 1;\n    }\n",
		"\n    access_log /var/log/portico/access.log portico buffer=16k gzip=2 flush=5s if=$portico_loggable;\n",
		"map $portico_backend $portico_upstream_name {", "map $portico_backend $portico_service_name {",
		"map $portico_backend $portico_service_port {", "map $portico_ingress $portico_namespace {",
		"map $portico_ingress $portico_ingress_name {",
		// $req_id is X-Request-ID: nginx's $request_id makes it, so that
		// every logged request has the id its backend got.
		"\"\"      $request_id;",
	)
	if strings.Contains(s, "error_log stderr notice;") || strings.Contains(s, "$req_id") {
		t.Error("nginx.conf keeps error_log stderr notice or names $req_id")
	}
	syslog := renderConf(t, configWith(t, map[string]string{"enable-syslog": "true", "syslog-host": "fd00::1", "syslog-port": "5140",
		"error-log-level": "error", "access-log-params": "buffer=1m"}, testOptions))
	wantIn(t, "syslog nginx.conf", syslog, "\nerror_log stderr emerg;\nerror_log syslog:server=[fd00::1]:5140 error;\n",
		"\n    access_log syslog:server=[fd00::1]:5140 portico;\n")
	level := renderConf(t, configWith(t, map[string]string{"error-log-level": "info", "access-log-path": "/var/log/nginx/access.log"}, testOptions))
	wantIn(t, "nginx.conf", level, "\nerror_log stderr info;\n", "\n    access_log /dev/stdout portico buffer=64k flush=1s;\n")
}

// Every variable a log format may name exists in nginx (nginx -t refuses
// an unknown one), and the logging directives and maps pass nginx -t.
func TestRenderLoggingPassesNginxTest(t *testing.T) {
	var vars []string
	vars = append(vars, model.NginxLogVariables...)
	vars = append(vars, model.PorticoLogVariables...)
	for v := range model.IngressNginxLogVariables {
		vars = append(vars, v)
	}
	for _, p := range model.LogVariablePrefixes {
		vars = append(vars, p+"x_test")
	}
	sort.Strings(vars)
	all := "$" + strings.Join(vars, " $")
	// nginx -t would open the files under /var/log/: standard output and
	// error stand for them.
	json := map[string]string{"access-log-path": "/dev/stdout", "error-log-path": "/dev/stdout"}
	for k, v := range loggingOptions {
		if !strings.HasSuffix(k, "-path") {
			json[k] = v
		}
	}
	for name, data := range map[string]map[string]string{
		"every variable": {"log-format-upstream": all, "log-format-escape-none": "true", "skip-access-log-urls": "~*health"},
		"json":           json,
		"syslog":         {"enable-syslog": "true", "syslog-host": "127.0.0.1", "log-format-upstream": ingressNginxJSON},
	} {
		nginxTestConfig(t, name, func(o plan.Options) *plan.Plan { return configWith(t, data, o) })
	}
}
