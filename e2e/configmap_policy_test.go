package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// hasServerBlock waits until nginx.conf has a server block for each host
// (dynamic-routing false).
func hasServerBlock(t *testing.T, hosts ...string) {
	t.Helper()
	eventually(t, "server blocks", func() error {
		conf := runningConf(t)
		for _, h := range hosts {
			if !strings.Contains(conf, `server_name "`+h+`"`) {
				return fmt.Errorf("no server block for %s", h)
			}
		}
		return nil
	})
}

// proto checks that app a answered with code, and that it got the
// request over HTTP version want.
func proto(a *app, code int, want string) func(reply) error {
	return func(r reply) error {
		if err := fromApp(a, code)(r); err != nil {
			return err
		}
		if r.echo.Proto != want {
			return fmt.Errorf("backend got %s, want %s", r.echo.Proto, want)
		}
		return nil
	}
}

// The ConfigMap's defaults of per-Ingress settings apply to every Ingress
// without the annotation, which overrides them, on routed hosts and on
// server blocks alike: a global whitelist-source-range refuses the test
// client (127.0.0.1) with 403 but where an Ingress allows it, a global
// proxy-body-size answers 413 but where an annotation raises it, a global
// proxy-http-version 1.0 reaches the backend but where an annotation asks
// for 1.1. A bad value is refused alone with a Warning Event and the last
// good one kept.
func TestConfigMapDefaultsOfIngressSettings(t *testing.T) {
	ns := namespace(t, "cmdef")
	a := newApp(t, ns, "a", 1, "")
	allow := ann + "allowlist-source-range"
	createIngress(t, newIngress(ns, "plain", nil, hostRule("plain.cmdef.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "open", map[string]string{allow: "127.0.0.1"}, hostRule("open.cmdef.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "big", map[string]string{allow: "127.0.0.0/8", ann + "proxy-body-size": "64k", ann + "proxy-http-version": "1.1"},
		hostRule("big.cmdef.example.com", prefixPath("/", "a"))))
	servedBy(t, "plain.cmdef.example.com", "/", a)
	body := strings.Repeat("x", 8<<10)
	expect(t, "8k body under the default 1m", "POST", "open.cmdef.example.com", "/", nil, body, proto(a, 200, "HTTP/1.1"))

	data := map[string]string{"whitelist-source-range": "10.0.0.0/8, 192.168.0.0/16", "proxy-body-size": "4k", "proxy-http-version": "1.0"}
	for _, routing := range []string{"true", "false"} {
		data["dynamic-routing"] = routing
		putConfigMap(t, data)
		what := func(s string) string { return s + " (dynamic-routing " + routing + ")" }
		if routing == "false" {
			hasServerBlock(t, "plain.cmdef.example.com", "open.cmdef.example.com", "big.cmdef.example.com")
		}
		expect(t, what("global whitelist refuses the client"), "GET", "plain.cmdef.example.com", "/", nil, "", status(403))
		expect(t, what("allowlist annotation overrides it"), "GET", "open.cmdef.example.com", "/", nil, "", proto(a, 200, "HTTP/1.0"))
		expect(t, what("global body size"), "POST", "open.cmdef.example.com", "/", nil, body, status(413))
		expect(t, what("annotation raises the body size"), "POST", "big.cmdef.example.com", "/", nil, body, proto(a, 200, "HTTP/1.1"))
		if routing == "true" {
			routedInLua(t, "plain.cmdef.example.com", "open.cmdef.example.com", "big.cmdef.example.com")
		}
	}

	// A bad value: refused alone, the last good one kept.
	data["whitelist-source-range"] = "10.0.0.0/33"
	data["proxy-body-size"] = "16k"
	putConfigMap(t, data)
	configMapWarning(t, "InvalidOption", "data[whitelist-source-range]")
	expect(t, "the other key applies", "POST", "open.cmdef.example.com", "/", nil, body, proto(a, 200, "HTTP/1.0"))
	expect(t, "the last good whitelist is kept", "GET", "plain.cmdef.example.com", "/", nil, "", status(403))

	// The denylist's default, and an annotation that overrides it.
	putConfigMap(t, map[string]string{"denylist-source-range": "127.0.0.1"})
	createIngress(t, newIngress(ns, "own-deny", map[string]string{ann + "denylist-source-range": "10.1.0.0/16"},
		hostRule("deny.cmdef.example.com", prefixPath("/", "a"))))
	expect(t, "global denylist refuses the client", "GET", "plain.cmdef.example.com", "/", nil, "", status(403))
	expect(t, "denylist annotation overrides it", "GET", "deny.cmdef.example.com", "/", nil, "", fromApp(a, 200))
}

// Security policy keys: block-cidrs, block-user-agents and block-referers
// answer 403 on every host, even where an Ingress allows the client;
// annotation-value-word-blocklist refuses an Ingress with a Warning
// Event; allow-cross-namespace-resources lets an Ingress name another
// namespace's Secret.
func TestConfigMapSecurityPolicy(t *testing.T) {
	ns := namespace(t, "cmsec")
	a := newApp(t, ns, "a", 1, "")
	const host = "sec.cmsec.example.com"
	createIngress(t, newIngress(ns, "web", map[string]string{ann + "allowlist-source-range": "127.0.0.1"}, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)

	putConfigMap(t, map[string]string{"block-user-agents": "~*badbot, Evil Agent/1.0", "block-referers": "~^https?://spam\\.example/"})
	expect(t, "blocked agent regex", "GET", host, "/", map[string]string{"User-Agent": "Mozilla/5.0 (compatible; BadBot/2.1)"}, "", status(403))
	expect(t, "blocked agent, exact", "GET", host, "/", map[string]string{"User-Agent": "Evil Agent/1.0"}, "", status(403))
	expect(t, "blocked referer", "GET", host, "/", map[string]string{"Referer": "https://spam.example/x"}, "", status(403))
	expect(t, "other agents and referers pass", "GET", host, "/",
		map[string]string{"User-Agent": "curl/8.0", "Referer": "https://good.example/"}, "", fromApp(a, 200))
	routedInLua(t, host)

	putConfigMap(t, map[string]string{"block-cidrs": "10.0.0.0/8, 127.0.0.1"})
	expect(t, "blocked client address, though the Ingress allows it", "GET", host, "/", nil, "", status(403))
	putConfigMap(t, map[string]string{"block-cidrs": "10.0.0.0/8", "dynamic-routing": "false"})
	expect(t, "another blocked network: the client passes (server block)", "GET", host, "/", nil, "", fromApp(a, 200))

	// annotation-value-word-blocklist.
	putConfigMap(t, map[string]string{"annotation-value-word-blocklist": "load_module, lua_package"})
	createIngress(t, newIngress(ns, "worded", map[string]string{ann + "rewrite-target": "/lua_package/x"},
		hostRule("worded.cmsec.example.com", prefixPath("/", "a"))))
	eventWith(t, ns, "worded", "BlockedAnnotationWord", "lua_package")
	// Refused: its paths answer 503 naming the cause, never another route.
	answers(t, "worded.cmsec.example.com", "/", 503)
	servedBy(t, host, "/", a)

	// allow-cross-namespace-resources: basic auth with another
	// namespace's Secret.
	other := namespace(t, "cmsec-secrets")
	putSecret(t, other, "users", map[string][]byte{"auth": []byte(sha1Line("alice", "wonderland"))})
	createIngress(t, newIngress(ns, "cross", map[string]string{ann + "auth-type": "basic", ann + "auth-secret": other + "/users"},
		hostRule("cross.cmsec.example.com", prefixPath("/", "a"))))
	eventWith(t, ns, "cross", "allow-cross-namespace-resources is false")
	answers(t, "cross.cmsec.example.com", "/", 503)
	putConfigMap(t, map[string]string{"allow-cross-namespace-resources": "true"})
	creds := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))}
	expect(t, "cross-namespace Secret, no credentials", "GET", "cross.cmsec.example.com", "/", nil, "", status(401))
	expect(t, "cross-namespace Secret, credentials", "GET", "cross.cmsec.example.com", "/", creds, "", fromApp(a, 200))
}

// The ConfigMap's snippets apply without allow-snippet-annotations (as in
// ingress-nginx): an http-snippet's map and a location-snippet's header
// show in answers of routed hosts and server blocks, a server-snippet's
// location answers. One nginx refuses is held back alone: the ConfigMap
// gets a Warning Event, the last good snippet keeps serving, and the rest
// of the change (another key, a new Ingress) is applied.
func TestConfigMapSnippets(t *testing.T) {
	ns := namespace(t, "cmsnip")
	a := newApp(t, ns, "a", 1, "")
	const host = "snip.cmsnip.example.com"
	createIngress(t, newIngress(ns, "web", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	data := map[string]string{
		"main-snippet":     "env PORTICO_MAIN_SNIPPET;",
		"http-snippet":     "map $http_x_probe $portico_e2e_probe {\n    default none;\n    yes seen;\n}",
		"location-snippet": "add_header X-Probe $portico_e2e_probe always;",
		"server-snippet":   "location = /from-server-snippet { return 204; }",
	}
	putConfigMap(t, data)
	probe := func(host string, want string) {
		t.Helper()
		expect(t, "location-snippet on "+host, "GET", host, "/", map[string]string{"X-Probe": "yes"}, "", func(r reply) error {
			if err := fromApp(a, 200)(r); err != nil {
				return err
			}
			if got := r.header.Get("X-Probe"); got != want {
				return fmt.Errorf("X-Probe %q, want %q", got, want)
			}
			return nil
		})
	}
	for _, routing := range []string{"true", "false"} {
		data["dynamic-routing"] = routing
		putConfigMap(t, data)
		if routing == "false" {
			hasServerBlock(t, host)
		}
		probe(host, "seen")
		expect(t, "server-snippet's location, dynamic-routing "+routing, "GET", host, "/from-server-snippet", nil, "", status(204))
		if routing == "true" {
			routedInLua(t, host)
		}
	}
	delete(data, "dynamic-routing")
	putConfigMap(t, data)
	if conf := runningConf(t); !strings.Contains(conf, "\nenv PORTICO_MAIN_SNIPPET;\n") {
		t.Error("nginx.conf lacks the main-snippet")
	}

	// nginx -t refuses this http-snippet (the tokenizer cannot know).
	data["http-snippet"] = "map $http_x_probe $portico_e2e_probe {\n    default none;\n    yes changed;\n}\nproxy_buffering maybe;"
	data["block-user-agents"] = "blocked-by-the-same-change"
	putConfigMap(t, data)
	createIngress(t, newIngress(ns, "later", nil, hostRule("later.cmsnip.example.com", prefixPath("/", "a"))))
	configMapWarning(t, "ConfigNotApplied: data[http-snippet]: nginx refused the configuration with this value", `"proxy_buffering" directive`)
	servedBy(t, "later.cmsnip.example.com", "/", a)
	expect(t, "the rest of the ConfigMap applies", "GET", host, "/", map[string]string{"User-Agent": "blocked-by-the-same-change"}, "", status(403))
	probe(host, "seen")
	if conf := runningConf(t); strings.Contains(conf, "maybe") {
		t.Error("the refused snippet reached nginx.conf")
	}

	// A fixed value is tried again and applies.
	data["http-snippet"] = "map $http_x_probe $portico_e2e_probe {\n    default none;\n    yes changed;\n}"
	putConfigMap(t, data)
	probe(host, "changed")
}
