package render

import (
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/plan"
)

// policyOptions set the ConfigMap's defaults of per-Ingress settings, its
// security policy and its snippets, each to a value other than its
// default.
var policyOptions = map[string]string{
	"proxy-buffering":             "off",
	"proxy-buffer-size":           "8k",
	"proxy-buffers-number":        "3",
	"proxy-request-buffering":     "off",
	"client-body-buffer-size":     "32k",
	"proxy-next-upstream":         "error timeout http_502",
	"proxy-next-upstream-tries":   "2",
	"proxy-next-upstream-timeout": "7",
	"limit-rate":                  "512",
	"limit-rate-after":            "1024",
	"proxy-http-version":          "1.0",
	"proxy-redirect-from":         "http://backend/",
	"proxy-redirect-to":           "/",
	"proxy-cookie-domain":         "backend.internal example.com",
	"proxy-cookie-path":           "/app /",
	"block-cidrs":                 "10.9.0.0/16, 192.168.7.7",
	"block-user-agents":           "badbot, ~*crawler[0-9]+, Evil Agent/1.0",
	"block-referers":              "~*spam\\.example",
	"main-snippet":                "env PORTICO_TEST;",
	"http-snippet":                "map $http_x_probe $portico_test_probe { default 0; yes 1; }",
	"server-snippet":              "add_header X-Server-Snippet on;",
	"location-snippet":            "add_header X-Location-Snippet on;",
}

// Each key reaches nginx.conf as the directives it stands for, once, at
// the level ingress-nginx prints it: proxy settings at the http level
// (locations inherit them; annotations override them per location), the
// block lists as maps and a 403 in every server, the snippets in their
// contexts.
func TestRenderPolicyOptions(t *testing.T) {
	conf, _, err := Render(configWith(t, policyOptions, testOptions))
	if err != nil {
		t.Fatal(err)
	}
	s := string(conf)
	for _, want := range []string{
		"\n    proxy_buffering off;\n",
		"\n    proxy_buffer_size 8k;\n    proxy_buffers 3 8k;\n    proxy_busy_buffers_size 8k;\n",
		"\n    proxy_request_buffering off;\n",
		"\n    client_body_buffer_size 32k;\n",
		"\n    proxy_next_upstream error timeout http_502;\n    grpc_next_upstream error timeout http_502;\n",
		"\n    proxy_next_upstream_tries 2;\n    proxy_next_upstream_timeout 7s;\n",
		"\n    limit_rate 512k;\n    limit_rate_after 1024k;\n",
		// The status server answers the controller at full speed.
		"\n        listen 127.0.0.1:10246;\n        access_log off;\n        # The ConfigMap's limit-rate is for traffic, not for the controller.\n        limit_rate 0;\n",
		"\n    proxy_http_version 1.0;\n",
		"\n    proxy_redirect \"http://backend/\" \"/\";\n",
		"\n    proxy_cookie_domain \"backend.internal\" \"example.com\";\n",
		"\n    proxy_cookie_path \"/app\" \"/\";\n",
		"\n        10.9.0.0/16 1;\n        192.168.7.7 1;\n",
		// Exact entries become anchored case-insensitive regexes; a
		// backslash is doubled for nginx's quoted string.
		"\n        \"~*^badbot$\" 1;\n        \"~*crawler[0-9]+\" 1;\n        \"~*^Evil Agent/1\\\\.0$\" 1;\n",
		"\n        \"~*spam\\\\.example\" 1;\n",
		"\nenv PORTICO_TEST;\n",
		"\nmap $http_x_probe $portico_test_probe { default 0; yes 1; }\n",
	} {
		if strings.Count(s, want) != 1 {
			t.Errorf("nginx.conf has %q %d times, want once", want, strings.Count(s, want))
		}
	}
	servers := strings.Count(s, "\n        server_name ")
	for _, want := range []string{"if ($portico_blocked_addr) {", "if ($portico_blocked_agent) {", "if ($portico_blocked_referer) {",
		"\nadd_header X-Server-Snippet on;\n"} {
		if n := strings.Count(s, want); n != servers || n == 0 {
			t.Errorf("nginx.conf has %q %d times, want once in each of its %d servers", want, n, servers)
		}
	}
	// Every location that proxies (each runs Lua's access phase).
	if n, want := strings.Count(s, "\nadd_header X-Location-Snippet on;\n"), strings.Count(s, "access_by_lua_block {"); n != want {
		t.Errorf("location-snippet is in %d locations, want every one of the %d that proxy", n, want)
	}
	// The defaults print nginx's own values, and no policy.
	wantNotIn(t, "default nginx.conf", renderConf(t, configWith(t, nil, testOptions)),
		"\n    limit_rate", "proxy_cookie_", "client_body_buffer_size 3", "$portico_blocked", "snippet (the ConfigMap's)")
}

// All of them at once pass the real nginx -t.
func TestRenderPolicyOptionsPassNginxTest(t *testing.T) {
	nginxTestConfig(t, "policy", func(o plan.Options) *plan.Plan { return configWith(t, policyOptions, o) })
}

// Block list entries that try to leave their map, and one longer than
// nginx's map hash bucket takes, pass the real nginx -t as the keys of
// their maps: no entry can make nginx refuse the config.
func TestRenderBlockListsPassNginxTest(t *testing.T) {
	for _, v := range []string{"x; return 299 pwned;", "x} location /pwned { return 299 pwned; } location /y {",
		"x'; return 299 pwned; '", "${pwned}", `x\\; return 299 pwned;`, `x\; return 299 pwned; #`, `~*bot\d+$`,
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) and a tail longer than the map hash bucket"} {
		data := map[string]string{"block-user-agents": v, "block-referers": v}
		if p := configWith(t, data, testOptions); len(p.HTTP.BlockedAgents) == 0 {
			t.Errorf("%q refused", v)
			continue
		}
		nginxTestConfig(t, v, func(o plan.Options) *plan.Plan { return configWith(t, data, o) })
	}
}
