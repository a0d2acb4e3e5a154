package e2e

import (
	"fmt"
	"os"
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

// inspectionRule is a ModSecurity rule that logs (at nginx's info level)
// every transaction whose query has e2e=inspect: one line per inspection.
const inspectionRule = `SecRule ARGS:e2e "@streq inspect" "id:900901,phase:1,pass,log,msg:portico-e2e-inspection"`

// inspections counts the error log's lines of inspectionRule for the
// request whose query has n=token.
func inspections(t *testing.T, token string) int {
	t.Helper()
	b, err := os.ReadFile(env.portico.logPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "portico-e2e-inspection") && strings.Contains(l, "n="+token+" ") {
			n++
		}
	}
	return n
}

// The ConfigMap's ModSecurity inspects each request once, as
// ingress-nginx's does: not again in the internal locations nginx passes
// it through, which turn it off (the auth subrequest of auth-url, the
// custom-http-errors page), so a clean request passes through the auth
// service to the backend and an error page is served, each logged by a
// rule once; on a routed host (where the router's "/" hands every request
// on to the location that inspects it, and what no route serves to one
// that answers 404) and a server block alike.
func TestModSecurityInternalLocations(t *testing.T) {
	ns := namespace(t, "wafint")
	a := newApp(t, ns, "a", 1, "")
	auth := newApp(t, ns, "auth", 1, "")
	errs := newApp(t, ns, "errsvc", 1, "")
	authed, authedStatic := withStatic(map[string]string{ann + "auth-url": authURL(auth, 200, "")})
	errors, errorsStatic := withStatic(map[string]string{ann + "custom-http-errors": "503", ann + "default-backend": "errsvc"})
	for name, an := range map[string]map[string]string{"plain": nil, "auth": authed, "auth-static": authedStatic, "errors": errors, "errors-static": errorsStatic} {
		createIngress(t, newIngress(ns, name, an, hostRule(name+".wafint.example.com", prefixPath("/", "a"))))
	}
	allowSnippets(t, "enable-modsecurity", "true", "enable-owasp-modsecurity-crs", "true", "error-log-level", "info",
		"modsecurity-snippet", engineOn+"\n"+inspectionRule)
	token := 0
	once := func(host, path string, check func(reply) error) {
		t.Helper()
		expect(t, host+": an attack is blocked (ModSecurity in effect)", "GET", host, sqlInjection, nil, "", status(403))
		expect(t, host+path+" served", "GET", host, path, nil, "", check)
		token++
		tok := fmt.Sprintf("%s-%d", ns, token)
		if r, err := send("GET", host, path+"?e2e=inspect&n="+tok, nil, ""); err != nil {
			t.Fatal(err)
		} else if err := check(r); err != nil {
			t.Errorf("%s%s with the marker: %v (got %d %s)", host, path, err, r.code, short(r.body))
		}
		eventually(t, host+path+" inspected", func() error {
			if inspections(t, tok) == 0 {
				return fmt.Errorf("no inspection logged")
			}
			return nil
		})
		if n := inspections(t, tok); n != 1 {
			t.Errorf("%s%s: inspected %d times, want once", host, path, n)
		}
	}
	for _, h := range []string{"plain.wafint.example.com", "auth.wafint.example.com", "auth-static.wafint.example.com"} {
		once(h, "/", fromApp(a, 200))
	}
	// What no route serves is inspected too (the router hands it to a
	// location that answers 404).
	once("nothing.wafint.example.com", "/", status(404))
	for _, h := range []string{"errors.wafint.example.com", "errors-static.wafint.example.com"} {
		// The error backend's answer and status reach the client.
		once(h, "/__status/503", fromApp(errs, 200))
	}
	routedInLua(t, "plain.wafint.example.com", "auth.wafint.example.com", "errors.wafint.example.com")
}
