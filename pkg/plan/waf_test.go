package plan

import (
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// A location's ModSecurity directives follow ingress-nginx's
// buildModSecurityForLocation case by case.
func TestWAFDirectives(t *testing.T) {
	const rules, crs = "modsecurity_rules_file /n/modsecurity/modsecurity.conf", "modsecurity_rules_file /n/owasp-modsecurity-crs/nginx-modsecurity.conf"
	on := &annotations.ModSecurity{Enable: true, EnableSet: true}
	for _, c := range []struct {
		name       string
		global     model.WAF
		ms         *annotations.ModSecurity
		want       []string
		wantModule bool
	}{
		{"nothing", model.WAF{}, nil, nil, false},
		{"global only", model.WAF{On: true}, nil, nil, true},
		{"annotation on", model.WAF{}, on, []string{"modsecurity on", rules}, true},
		{"annotation off under global", model.WAF{On: true}, &annotations.ModSecurity{EnableSet: true}, []string{"modsecurity off"}, true},
		{"annotation off alone", model.WAF{}, &annotations.ModSecurity{EnableSet: true}, nil, false},
		{"owasp without enable", model.WAF{}, &annotations.ModSecurity{OWASP: true}, nil, false},
		{"owasp under global", model.WAF{On: true}, &annotations.ModSecurity{OWASP: true}, []string{crs}, true},
		{"owasp under global crs", model.WAF{On: true, CRS: true}, &annotations.ModSecurity{OWASP: true}, nil, true},
		{"on with owasp and id", model.WAF{}, &annotations.ModSecurity{Enable: true, EnableSet: true, OWASP: true, TransactionID: "$request_id"},
			[]string{"modsecurity on", `modsecurity_transaction_id "$request_id"`, rules, crs}, true},
		{"own rules replace the file", model.WAF{}, &annotations.ModSecurity{Enable: true, EnableSet: true, Rules: `SecRuleEngine On`},
			[]string{"modsecurity on", "modsecurity_rules '\nSecRuleEngine On\n'"}, true},
		{"own rules under global", model.WAF{On: true}, &annotations.ModSecurity{Rules: `SecRuleEngine On`},
			[]string{"modsecurity_rules '\nSecRuleEngine On\n'"}, true},
	} {
		m := &model.Config{Global: model.Global{WAF: c.global}, Servers: []*model.Server{{Host: "a.example", Locations: []*model.Location{{Path: "/", ModSecurity: c.ms}}}}}
		w := wafOf(m, "/n/lua")
		if got := w.directives(c.ms); !slices.Equal(got, c.want) {
			t.Errorf("%s: directives %q, want %q", c.name, got, c.want)
		}
		if w.Module != c.wantModule {
			t.Errorf("%s: module loaded %v, want %v", c.name, w.Module, c.wantModule)
		}
	}
}

// A host with a ModSecurity annotation keeps a server block, with the
// directives in its location; the others stay routed. The status server
// turns the ConfigMap's ModSecurity off.
func TestWAFServerBlock(t *testing.T) {
	svcs, eps := labObjects()
	in := model.Input{Ingresses: []*networkingv1.Ingress{
		ingress("lab", "waf", annotate(annotations.Prefix+"enable-modsecurity", "true"), rule("waf.example", path("/", prefix, "api-service", 80))),
		ingress("lab", "plain", rule("plain.example", path("/", prefix, "api-service", 80)))},
		IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: eps, Options: defaultOptions,
		ConfigMap: configMap(map[string]string{"enable-modsecurity": "true"})}
	m := model.Build(in)
	p := planOf(t, m)
	var hosts []string
	for _, s := range p.Servers {
		hosts = append(hosts, s.Host)
		if s.Host == "waf.example" && len(s.Locations[0].Settings) != 0 {
			t.Errorf("waf.example's location: %q; the ConfigMap's ModSecurity already covers it", s.Locations[0].Settings)
		}
	}
	if !slices.Contains(hosts, "waf.example") || slices.Contains(hosts, "plain.example") {
		t.Fatalf("server blocks %q: want waf.example's and not plain.example's", hosts)
	}
	if !p.HTTP.WAF.Module || !p.HTTP.WAF.On || !p.Status().WAF {
		t.Fatalf("WAF %+v, status WAF %v: want the module, on, off in the status server", p.HTTP.WAF, p.Status().WAF)
	}
	if !strings.HasSuffix(p.HTTP.WAF.RulesFile, "modsecurity/modsecurity.conf") {
		t.Fatalf("rules file %q", p.HTTP.WAF.RulesFile)
	}
}

// With the ConfigMap's ModSecurity a request is inspected once, as in
// ingress-nginx: the router's "/" does not inspect and hands every route
// to a location of its own, and what no route serves to the not-found
// location; auth subrequests turn it off. Without it, "/" serves plain
// routes itself.
func TestWAFInspectsOnce(t *testing.T) {
	svcs, eps := labObjects()
	in := model.Input{Ingresses: []*networkingv1.Ingress{
		ingress("lab", "plain", rule("plain.example", path("/", prefix, "api-service", 80))),
		ingress("lab", "authed", annotate(annotations.Prefix+"auth-url", "http://auth.example/check"), rule("authed.example", path("/", prefix, "api-service", 80)))},
		IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: eps, Options: defaultOptions,
		ConfigMap: configMap(map[string]string{"enable-modsecurity": "true"})}
	p := planOf(t, model.Build(in))
	root := p.Router.Locations[0]
	if root.Name != "/" || !slices.Contains(p.Router.Directives(root), "modsecurity off") || p.Router.NotFound(root) != RouterNotFoundLocation {
		t.Fatalf("router %q: directives %q, not found %q; want ModSecurity off and the not-found location", root.Name, p.Router.Directives(root), p.Router.NotFound(root))
	}
	if own := p.Router.Locations[1]; slices.Contains(p.Router.Directives(own), "modsecurity off") || p.Router.NotFound(own) != "" {
		t.Errorf("%s: directives %q, not found %q; want it to inspect and answer 404 itself", own.Name, p.Router.Directives(own), p.Router.NotFound(own))
	}
	if plain := routesOf(t, p).Hosts["plain.example"].Routes[0]; plain.Location == "" {
		t.Error("a plain route is served in the router's \"/\", which does not inspect")
	}
	if len(p.Router.AuthLocations) != 1 || !p.Router.AuthLocations[0].WAFOff {
		t.Errorf("auth locations %+v: want ModSecurity off", p.Router.AuthLocations)
	}

	in.ConfigMap = configMap(nil)
	p = planOf(t, model.Build(in))
	if root := p.Router.Locations[0]; slices.Contains(p.Router.Directives(root), "modsecurity off") || p.Router.NotFound(root) != "" || p.Router.NotFoundLocation() != "" {
		t.Errorf("without ModSecurity: %q, not found %q", p.Router.Directives(root), p.Router.NotFound(root))
	}
	if plain := routesOf(t, p).Hosts["plain.example"].Routes[0]; plain.Location != "" {
		t.Errorf("without ModSecurity a plain route goes to %s", plain.Location)
	}
	if p.Router.AuthLocations[0].WAFOff {
		t.Error("without ModSecurity the auth location turns it off")
	}
}
