package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each logging key: valid values and what they set, and values outside
// its grammar.
func TestConfigMapLoggingKeys(t *testing.T) {
	none := func(*Global) {}
	json := `{"time": "$time_iso8601", "status": $status, "id": "$req_id", "ns": "${namespace}", "ua": "$http_user_agent"}`
	testKeyValues(t, []keyValues{
		{key: "log-format-upstream", good: map[string]func(*Global){
			json: func(g *Global) { g.LogFormat = json },
			// ingress-nginx's default format.
			`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`: func(g *Global) {
				g.LogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`
			},
		}, bad: []string{`{"a": "$nosuch"}`, "it's", `a\b`, "$status'", "${status", "${}", "$", "$Status", "tab\there", "ü"}},
		{key: "log-format-escape-json", good: map[string]func(*Global){"true": func(g *Global) { g.Logging.Escape = "json" }}, bad: []string{"json"}},
		{key: "log-format-escape-none", good: map[string]func(*Global){"true": func(g *Global) { g.Logging.Escape = "none" }}, bad: []string{"x"}},
		{key: "access-log-path", good: map[string]func(*Global){
			"/var/log/nginx/access.log": none,
			"/dev/stderr":               func(g *Global) { g.Logging.AccessLogPath = "/dev/stderr" },
			"/var/log/app/access.json":  func(g *Global) { g.Logging.AccessLogPath = "/var/log/app/access.json" },
		}, bad: []string{"", "access.log", "/etc/nginx/nginx.conf", "/var/log/../etc/passwd", "/var/log/a b", "/var/log/x;", "syslog:server=x", "/var/log/"}},
		{key: "http-access-log-path", good: map[string]func(*Global){"/var/log/h.log": func(g *Global) { g.Logging.AccessLogPath = "/var/log/h.log" }},
			bad: []string{"/tmp/x"}},
		{key: "error-log-path", good: map[string]func(*Global){
			"/var/log/nginx/error.log": none,
			"/var/log/e.log":           func(g *Global) { g.Logging.ErrorLogPath = "/var/log/e.log" },
		}, bad: []string{"stderr", "/var/log/./e"}},
		{key: "error-log-level", good: map[string]func(*Global){"warn": func(g *Global) { g.Logging.ErrorLogLevel = "warn" }, "notice": none},
			bad: []string{"WARN", "warning", "", "debug_http"}},
		{key: "access-log-params", good: map[string]func(*Global){
			"buffer=16k, gzip=2, flush=5s": func(g *Global) { g.Logging.AccessLogParams = []string{"buffer=16k", "gzip=2", "flush=5s"} },
			"gzip":                         func(g *Global) { g.Logging.AccessLogParams = []string{"gzip"} },
		}, bad: []string{"", "flush=1s", "buffer=1k buffer=2k", "if=$x", "buffer=0", "gzip=10", "buffer=16k;", "buffer=1g"}},
		{key: "skip-access-log-urls", good: map[string]func(*Global){
			"/healthz, ~*^/ready$,~^/x\\?y": func(g *Global) { g.Logging.SkipURLs = []string{"/healthz", "~*^/ready$", `~^/x\?y`} },
		}, bad: []string{"", ",", "healthz", "/a b", `/"x"`, "~(", `~a"b`, "~*a b", `~a\\`}},
		{key: "enable-syslog", good: map[string]func(*Global){"false": none}, bad: []string{"1x"}},
		{key: "syslog-host", good: map[string]func(*Global){"10.0.0.1": none, "syslog.example.com": none, "fd00::1": none},
			bad: []string{"", "fe80::1%eth0", "syslog.example.com:514", "*.example.com", "a;b", "-x.example.com"}},
		{key: "syslog-port", good: map[string]func(*Global){"5140": none}, bad: []string{"0", "65536", "x"}},
	})
}

// enable-syslog with syslog-host sends both logs to syslog; without a
// host it is a warning and the logs stay.
func TestConfigMapSyslog(t *testing.T) {
	g, _, ds := parseConfigMapKeeping(configMap(map[string]string{"enable-syslog": "true", "syslog-host": "fd00::1", "syslog-port": "5140"}), nil, configRefs{})
	if len(ds) != 0 || g.Logging.Syslog == nil || g.Logging.Syslog.Address() != "[fd00::1]:5140" {
		t.Errorf("syslog %+v, diagnostics %v", g.Logging.Syslog, ds)
	}
	g, _, ds = parseConfigMapKeeping(configMap(map[string]string{"enable-syslog": "true"}), nil, configRefs{})
	if len(ds) != 1 || ds[0].Reason != "SyslogWithoutHost" || g.Logging.Syslog != nil {
		t.Errorf("enable-syslog alone: syslog %+v, diagnostics %v", g.Logging.Syslog, ds)
	}
	g, _, _ = parseConfigMapKeeping(configMap(map[string]string{"log-format-escape-json": "true", "log-format-escape-none": "true"}), nil, configRefs{})
	if g.Logging.Escape != "none" {
		t.Errorf("escape %q, want none (it wins, as in ingress-nginx)", g.Logging.Escape)
	}
}

// MapLogFormat replaces the variables it is asked to, braced or not, and
// keeps the others as written.
func TestMapLogFormat(t *testing.T) {
	got := MapLogFormat(`$status ${req_id}x "$namespace"`, func(n string) (string, bool) {
		if n == "status" {
			return "", false
		}
		return "${p_" + n + "}", true
	})
	if want := `$status ${p_req_id}x "${p_namespace}"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"status", "req_id", "namespace"}, LogFormatVariables(`$status ${req_id}x "$namespace"`)); diff != "" {
		t.Error(diff)
	}
	if !strings.Contains(checkLogFormat("$nosuch"), "$nosuch is not a variable Portico knows") {
		t.Error(checkLogFormat("$nosuch"))
	}
}
