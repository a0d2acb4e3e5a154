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
