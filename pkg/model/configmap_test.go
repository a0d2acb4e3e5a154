package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Each proxy, logging and process option: a valid value and the Global it
// gives, and values outside its grammar.
func TestConfigMapProxyOptions(t *testing.T) {
	with := func(f func(g *Global)) Global { g := defaultGlobal; f(&g); return g }
	tests := []struct {
		key, value string
		want       Global
		bad        []string
	}{
		{"proxy-body-size", "8m", with(func(g *Global) { g.ProxyBodySize = "8m" }),
			[]string{"8 m", "8mb", "-1", "1t", "", "1m;", "99999999999"}},
		{"proxy-body-size", "0", with(func(g *Global) { g.ProxyBodySize = "0" }), nil},
		{"proxy-connect-timeout", "3", with(func(g *Global) { g.ProxyConnectTimeout = 3 }),
			[]string{"0", "3601", "3m", "1.5", "", "x"}},
		{"proxy-read-timeout", "120s", with(func(g *Global) { g.ProxyReadTimeout = 120 }), []string{"0", "86401", "2m"}},
		{"proxy-send-timeout", "90", with(func(g *Global) { g.ProxySendTimeout = 90 }), []string{"-5", "ninety"}},
		{"use-forwarded-headers", "true", with(func(g *Global) {
			g.UseForwardedHeaders = true
			g.RealIP = &RealIP{Header: "X-Forwarded-For", From: []string{"0.0.0.0/0"}}
		}), []string{"yes", "on", ""}},
		// compute-full-forwarded-for alone trusts nothing the client sent.
		{"compute-full-forwarded-for", "true", defaultGlobal, []string{"2"}},
		{"enable-real-ip", "true", with(func(g *Global) {
			g.RealIP = &RealIP{Header: "X-Forwarded-For", From: []string{"0.0.0.0/0"}}
		}), []string{"enabled"}},
		{"proxy-real-ip-cidr", "10.0.0.0/8,192.168.1.7, 10.1.2.3/16, fd00::/8", with(func(g *Global) {
			g.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.7/32", "10.1.0.0/16", "fd00::/8"}
		}),
			[]string{"10.0.0.0/33", "10.0.0.0/8;", "", "10.0.0.0/8,,", "example.com", "fe80::1%eth0"}},
		{"use-proxy-protocol", "true", with(func(g *Global) {
			g.UseProxyProtocol = true
			g.RealIP = &RealIP{Header: "proxy_protocol", From: []string{"0.0.0.0/0"}}
		}), []string{"True!"}},
		{"worker-processes", "4", with(func(g *Global) { g.WorkerProcesses = "4" }),
			[]string{"0", "1025", "04", "auto;", "two", ""}},
		{"worker-processes", "auto", defaultGlobal, nil},
		{"log-format-upstream", "$remote_addr [$time_local] $status $request_time $http_x_request_id $portico_ingress",
			with(func(g *Global) {
				g.LogFormat = "$remote_addr [$time_local] $status $request_time $http_x_request_id $portico_ingress"
			}),
			[]string{"$status'; include /etc/passwd; '", `$status \n`, "${status", "${nosuchvar}", "$nosuchvar",
				"$http_", "$", "a\tb", "line\nbreak", "", strings.Repeat("a", 4097)}},
		{"log-format-upstream", "$remote_addr $status [$portico_backend]",
			with(func(g *Global) { g.LogFormat = "$remote_addr $status [$portico_backend]" }), nil},
		{"server-tokens", "true", with(func(g *Global) { g.ServerTokens = true }), []string{"1x"}},
		{"generate-request-id", "false", with(func(g *Global) { g.GenerateRequestID = false }), []string{"no", "2"}},
		{"log-format-upstream", "$remote_addr $request_id $status", with(func(g *Global) { g.LogFormat = "$remote_addr $request_id $status" }), nil},
		{"disable-access-log", "true", with(func(g *Global) { g.AccessLog = false }), []string{"yes", "1x"}},
		{"upstream-keepalive-connections", "0", with(func(g *Global) { g.UpstreamKeepaliveConnections = 0 }),
			[]string{"-1", "100001", "many"}},
		{"upstream-keepalive-timeout", "30", with(func(g *Global) { g.UpstreamKeepaliveTimeout = 30 }), []string{"0", "1h"}},
		{"upstream-keepalive-requests", "50", with(func(g *Global) { g.UpstreamKeepaliveRequests = 50 }), []string{"0", "1e3"}},
		{"proxy-stream-timeout", "1h", with(func(g *Global) { g.Stream.Timeout = "1h" }),
			[]string{"0", "0s", "8d", "1 h", "10m;", "forever", ""}},
		{"proxy-stream-timeout", "30", with(func(g *Global) { g.Stream.Timeout = "30" }), nil},
		{"proxy-stream-responses", "3", with(func(g *Global) { g.Stream.Responses = 3 }),
			[]string{"0", "-1", "1000001", "2;", "many", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			g, inEffect, ds := parseConfigMapKeeping(configMap(map[string]string{tc.key: tc.value}), nil, configRefs{})
			if len(ds) != 0 {
				t.Fatalf("diagnostics: %v", ds)
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("Global (-want +got):\n%s", diff)
			}
			if inEffect[tc.key] != tc.value {
				t.Errorf("in effect: %v", inEffect)
			}
			for _, v := range tc.bad {
				g, inEffect, ds := parseConfigMapKeeping(configMap(map[string]string{tc.key: v}), nil, configRefs{})
				if len(ds) != 1 || ds[0].Reason != "InvalidOption" || ds[0].Severity != diag.Error ||
					!strings.Contains(ds[0].Message, "the default is used") {
					t.Errorf("%q: diagnostics %v, want one InvalidOption error", v, ds)
				}
				if diff := cmp.Diff(defaultGlobal, g); diff != "" {
					t.Errorf("%q changed the global config:\n%s", v, diff)
				}
				if len(inEffect) != 0 {
					t.Errorf("%q: in effect %v", v, inEffect)
				}
			}
		})
	}
}

// The real-IP source and trusted networks combine several keys.
func TestConfigMapRealIP(t *testing.T) {
	tests := []struct {
		data       map[string]string
		realIP     *RealIP
		appendXFF  bool
		forwarded  bool
		proxyProto bool
	}{
		{data: nil},
		{data: map[string]string{"proxy-real-ip-cidr": "10.0.0.0/8"}},
		{data: map[string]string{"enable-real-ip": "true", "proxy-real-ip-cidr": "10.1.2.3/8,192.168.0.1"},
			realIP: &RealIP{Header: "X-Forwarded-For", From: []string{"10.0.0.0/8", "192.168.0.1/32"}}},
		{data: map[string]string{"use-forwarded-headers": "true", "compute-full-forwarded-for": "true"},
			realIP: &RealIP{Header: "X-Forwarded-For", From: []string{"0.0.0.0/0"}}, appendXFF: true, forwarded: true},
		{data: map[string]string{"use-proxy-protocol": "true", "use-forwarded-headers": "true", "proxy-real-ip-cidr": "172.16.0.0/12"},
			realIP: &RealIP{Header: "proxy_protocol", From: []string{"172.16.0.0/12"}}, forwarded: true, proxyProto: true},
	}
	for _, tc := range tests {
		g, _, ds := parseConfigMapKeeping(configMap(tc.data), nil, configRefs{})
		if len(ds) != 0 {
			t.Fatalf("%v: diagnostics %v", tc.data, ds)
		}
		if diff := cmp.Diff(tc.realIP, g.RealIP); diff != "" {
			t.Errorf("%v: RealIP (-want +got):\n%s", tc.data, diff)
		}
		if g.AppendForwardedFor != tc.appendXFF || g.UseForwardedHeaders != tc.forwarded || g.UseProxyProtocol != tc.proxyProto {
			t.Errorf("%v: append %v forwarded %v proxy protocol %v", tc.data, g.AppendForwardedFor, g.UseForwardedHeaders, g.UseProxyProtocol)
		}
	}
}

// A key whose value turns invalid keeps its last good value; without one
// it gets the default; valid keys and removed keys are unaffected.
func TestConfigMapLastGoodValueKept(t *testing.T) {
	lastGood := map[string]string{"proxy-body-size": "8m", "worker-processes": "2", "server-tokens": "true", "load-balance": "ewma"}
	tests := []struct {
		name     string
		data     map[string]string
		lastGood map[string]string
		want     func(g *Global)
		inEffect map[string]string
		messages []string
	}{{
		name:     "all valid: the ConfigMap wins",
		data:     map[string]string{"proxy-body-size": "16m", "worker-processes": "3"},
		lastGood: lastGood,
		want:     func(g *Global) { g.ProxyBodySize = "16m"; g.WorkerProcesses = "3" },
		inEffect: map[string]string{"proxy-body-size": "16m", "worker-processes": "3"},
	}, {
		name:     "invalid values keep the last good ones",
		data:     map[string]string{"proxy-body-size": "lots", "worker-processes": "3", "load-balance": "random"},
		lastGood: lastGood,
		want: func(g *Global) {
			g.ProxyBodySize = "8m"
			g.WorkerProcesses = "3"
			g.LoadBalance = "ewma"
		},
		inEffect: map[string]string{"proxy-body-size": "8m", "worker-processes": "3", "load-balance": "ewma"},
		messages: []string{
			`data[load-balance]: invalid value "random": want round_robin or ewma; the last good value "ewma" is kept`,
			`data[proxy-body-size]: invalid value "lots": want a size such as 1m, 512k or 0 (no limit); the last good value "8m" is kept`,
		},
	}, {
		name:     "no last good value: the default",
		data:     map[string]string{"proxy-read-timeout": "forever"},
		lastGood: lastGood,
		want:     func(g *Global) {},
		messages: []string{`data[proxy-read-timeout]: invalid value "forever": want a number of seconds from 1 to 86400; the default is used`},
	}, {
		name:     "a last good value that does not parse is not used",
		data:     map[string]string{"worker-processes": "0"},
		lastGood: map[string]string{"worker-processes": "-1"},
		want:     func(g *Global) {},
		messages: []string{`data[worker-processes]: invalid value "0": want auto or a number from 1 to 1024; the default is used`},
	}, {
		name:     "a removed key returns to its default",
		data:     map[string]string{},
		lastGood: lastGood,
		want:     func(g *Global) {},
	}, {
		name:     "HSTS is derived from the kept value",
		data:     map[string]string{"hsts-max-age": "soon"},
		lastGood: map[string]string{"hsts-max-age": "600"},
		want:     func(g *Global) { g.HSTS = "max-age=600; includeSubDomains" },
		inEffect: map[string]string{"hsts-max-age": "600"},
		messages: []string{`data[hsts-max-age]: invalid value "soon": want a number of seconds; the last good value "600" is kept`},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := defaultGlobal
			tc.want(&want)
			g, inEffect, ds := parseConfigMapKeeping(configMap(tc.data), tc.lastGood, configRefs{})
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("Global (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.inEffect, inEffect); diff != "" {
				t.Errorf("in effect (-want +got):\n%s", diff)
			}
			var msgs []string
			for _, d := range ds {
				msgs = append(msgs, d.Field+": "+d.Message)
			}
			if diff := cmp.Diff(tc.messages, msgs); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// Build keeps the previous model's value of a key whose value is now
// invalid and reports what is in effect.
func TestBuildKeepsThePreviousConfigMapValue(t *testing.T) {
	cfg := Build(Input{ConfigMap: configMap(map[string]string{"proxy-body-size": "1 GB"}),
		Previous: &Config{ConfigMapValues: map[string]string{"proxy-body-size": "2g"}}, Options: defaultOptions})
	if cfg.Global.ProxyBodySize != "2g" || cfg.ConfigMapValues["proxy-body-size"] != "2g" {
		t.Fatalf("body size %q, in effect %v", cfg.Global.ProxyBodySize, cfg.ConfigMapValues)
	}
	if len(cfg.Diagnostics) != 1 || cfg.Diagnostics[0].Object.Kind != "ConfigMap" {
		t.Fatalf("diagnostics %v", cfg.Diagnostics)
	}
}
