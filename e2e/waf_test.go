package e2e

import (
	"strings"
	"testing"
)

// Requests the OWASP Core Rule Set scores as attacks (SQL injection,
// cross-site scripting), and one it lets through.
const (
	sqlInjection = "/?id=1%27%20OR%201=1--"
	crossSite    = "/?q=%3Cscript%3Ealert(1)%3C/script%3E"
)

// engineOn are rules that turn the engine from DetectionOnly to blocking.
const engineOn = "SecRuleEngine On"

// isServerBlock reports whether the running nginx.conf has a server block
// for host now (else the Lua router serves it).
func isServerBlock(t *testing.T, host string) bool {
	t.Helper()
	return strings.Contains(runningConf(t), `server_name "`+host+`"`)
}

// The ConfigMap's ModSecurity with the Core Rule Set: in Portico's default
// DetectionOnly the attacks reach the backend; with modsecurity-snippet's
// SecRuleEngine On they answer 403, on a Lua-routed host (which stays
// routed) and on a host with a server block alike, while clean requests
// reach the backend. modsecurity-snippet is refused until snippets are
// allowed.
func TestConfigMapModSecurity(t *testing.T) {
	ns := namespace(t, "waf")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "routed", nil, hostRule("routed.waf.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "static", needsServerBlock(), hostRule("static.waf.example.com", prefixPath("/", "a"))))
	hosts := []string{"routed.waf.example.com", "static.waf.example.com"}

	allowSnippets(t, "enable-modsecurity", "true", "enable-owasp-modsecurity-crs", "true")
	for _, h := range hosts {
		expect(t, h+": clean request", "GET", h, "/", nil, "", fromApp(a, 200))
		for _, attack := range []string{sqlInjection, crossSite} {
			expect(t, h+": attack passes in DetectionOnly", "GET", h, attack, nil, "", fromApp(a, 200))
		}
	}
	if isServerBlock(t, "routed.waf.example.com") {
		t.Fatal("the ConfigMap's ModSecurity gave a routed host a server block")
	}

	allowSnippets(t, "enable-modsecurity", "true", "enable-owasp-modsecurity-crs", "true", "modsecurity-snippet", engineOn)
	for _, h := range hosts {
		for _, attack := range []string{sqlInjection, crossSite} {
			expect(t, h+": attack blocked", "GET", h, attack, nil, "", status(403))
		}
		expect(t, h+": clean request", "GET", h, "/", nil, "", fromApp(a, 200))
	}
	if isServerBlock(t, "routed.waf.example.com") {
		t.Fatal("the ConfigMap's ModSecurity gave a routed host a server block")
	}
	// The controller's pushes pass the status server uninspected: a new
	// routed Ingress (a push, with a JSON body) is served.
	b := newApp(t, ns, "b", 1, "")
	createIngress(t, newIngress(ns, "later", nil, hostRule("later.waf.example.com", prefixPath("/", "b"))))
	servedBy(t, "later.waf.example.com", "/", b)

	// Without allow-snippet-annotations the rules are refused (and the
	// engine stays in DetectionOnly), with a Warning Event.
	putConfigMap(t, map[string]string{"enable-modsecurity": "true", "enable-owasp-modsecurity-crs": "true", "modsecurity-snippet": engineOn})
	configMapEventWith(t, "InvalidOption", "data[modsecurity-snippet]")
	expect(t, "attack passes once the rules are refused", "GET", "routed.waf.example.com", sqlInjection, nil, "", fromApp(a, 200))
}

// The annotations turn ModSecurity on per Ingress with ingress-nginx's
// semantics: enable-modsecurity with enable-owasp-core-rules and
// modsecurity-snippet's SecRuleEngine On block attacks on that Ingress's
// host, whether it would be routed in Lua (it gets a server block) or has
// one already; without the snippet the rules only detect; other hosts are
// not inspected; enable-modsecurity "false" turns the ConfigMap's off.
func TestAnnotationsModSecurity(t *testing.T) {
	ns := namespace(t, "wafann")
	a := newApp(t, ns, "a", 1, "")
	blocking := map[string]string{ann + "enable-modsecurity": "true", ann + "enable-owasp-core-rules": "true",
		ann + "modsecurity-transaction-id": "$request_id", ann + "modsecurity-snippet": engineOn}
	allowSnippets(t)
	createIngress(t, newIngress(ns, "plain-waf", blocking, hostRule("plain.wafann.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "static-waf", needsServerBlock(ann+"enable-modsecurity", "true", ann+"enable-owasp-core-rules", "true",
		ann+"modsecurity-snippet", engineOn), hostRule("static.wafann.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "detect", map[string]string{ann + "enable-modsecurity": "true", ann + "enable-owasp-core-rules": "true"},
		hostRule("detect.wafann.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "none", nil, hostRule("none.wafann.example.com", prefixPath("/", "a"))))

	for _, h := range []string{"plain.wafann.example.com", "static.wafann.example.com"} {
		expect(t, h+": clean request", "GET", h, "/", nil, "", fromApp(a, 200))
		for _, attack := range []string{sqlInjection, crossSite} {
			expect(t, h+": attack blocked", "GET", h, attack, nil, "", status(403))
		}
	}
	if !isServerBlock(t, "plain.wafann.example.com") {
		t.Error("a host with ModSecurity annotations is routed in Lua; it needs a server block")
	}
	for _, h := range []string{"detect.wafann.example.com", "none.wafann.example.com"} {
		expect(t, h+": attack passes", "GET", h, sqlInjection, nil, "", fromApp(a, 200))
	}
	if isServerBlock(t, "none.wafann.example.com") {
		t.Error("a host without ModSecurity annotations got a server block")
	}

	// The ConfigMap turns it on everywhere with blocking rules; the
	// annotation "false" turns it off for its Ingress.
	allowSnippets(t, "enable-modsecurity", "true", "enable-owasp-modsecurity-crs", "true", "modsecurity-snippet", engineOn)
	createIngress(t, newIngress(ns, "off", map[string]string{ann + "enable-modsecurity": "false"}, hostRule("off.wafann.example.com", prefixPath("/", "a"))))
	expect(t, "the ConfigMap's rules block on a host without annotations", "GET", "none.wafann.example.com", sqlInjection, nil, "", status(403))
	expect(t, "enable-modsecurity false lets the attack through", "GET", "off.wafann.example.com", sqlInjection, nil, "", fromApp(a, 200))
}
