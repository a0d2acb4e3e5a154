package render

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// trafficConfig is the seed with rate limits (one with an allowlist) and
// source ranges on its locations.
func trafficConfig(t testing.TB, opts plan.Options) *plan.Plan {
	g := model.Build(model.Input{}).Global
	g.LimitReqStatus = 429
	m := seedModel(g)
	plain := &model.RateLimit{Scope: "000000000001", Ingress: model.IngressRef{Namespace: "lab", Name: "a"},
		Limits: model.Limits{RPM: 60, BurstRPM: 300, Connections: 2}}
	exempt := &model.RateLimit{Scope: "000000000002", Ingress: model.IngressRef{Namespace: "lab", Name: "b"},
		Allowlist: []string{"10.0.0.0/8", "2001:db8::/32"}, Limits: model.Limits{RPS: 5, BurstRPS: 25}}
	m.RateLimits = []*model.RateLimit{plain, exempt}
	app := m.Servers[2].Locations
	app[0].RateLimit = plain
	app[0].SourceRange = &model.SourceRange{Deny: []string{"192.0.2.1/32", "::1/128"}}
	app[1].RateLimit = exempt
	app[1].SourceRange = &model.SourceRange{Allow: []string{"127.0.0.1/32", "2001:db8::/32"}, Deny: []string{"127.0.0.2/32"}}
	return staticPlan(t, m, opts)
}

func TestRenderTrafficGolden(t *testing.T) {
	conf, _, err := Render(trafficConfig(t, testOptions))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "traffic.nginx.conf", conf)
	wantIn(t, "rendered config", string(conf),
		"limit_req_status 429;", "limit_conn_status 503;",
		"limit_req_zone $binary_remote_addr zone=portico_rl_000000000001_rpm:1m rate=60r/m;",
		"limit_conn_zone $binary_remote_addr zone=portico_rl_000000000001_conn:1m;",
		"geo $portico_rl_000000000002_exempt {", "2001:db8::/32 1;",
		"map $portico_rl_000000000002_exempt $portico_rl_000000000002_key {",
		"limit_req_zone $portico_rl_000000000002_key zone=portico_rl_000000000002_rps:1m rate=5r/s;",
		"limit_req zone=portico_rl_000000000001_rpm burst=300 nodelay;", "limit_conn portico_rl_000000000001_conn 2;",
		"limit_req zone=portico_rl_000000000002_rps burst=25 nodelay;",
		"deny 127.0.0.2/32;\n            allow 127.0.0.1/32;\n            allow 2001:db8::/32;\n            deny all;",
	)
}

// The traffic directives must pass the real nginx -t.
func TestRenderTrafficPassesNginxTest(t *testing.T) {
	nginxTestConfig(t, "traffic", func(o plan.Options) *plan.Plan { return trafficConfig(t, o) })
}

// Rate limits of routed hosts: zones shared per rate, applied in the
// router's named locations (one per limits in use); nginx -t accepts it.
func TestRenderRouterRateLimits(t *testing.T) {
	pfx := networkingv1.PathTypePrefix
	in := httpInput(nil,
		httpIngress("rps", "rps.example.com", map[string]string{"limit-rps": "5"}, pfx, "/"),
		httpIngress("rps2", "rps2.example.com", map[string]string{"limit-rps": "5", "limit-allowlist": "10.0.0.0/8"}, pfx, "/"),
		httpIngress("rpm", "rpm.example.com", map[string]string{"limit-rpm": "60", "limit-connections": "2", "proxy-buffer-size": "16k"}, pfx, "/"),
	)
	cfg, conf := renderInput(t, in, testOptions)
	if cfg.RateLimits != nil || cfg.Router == nil || cfg.Router.Zones == nil {
		t.Fatalf("RateLimits %v, Router %+v: want the routes' zones only", cfg.RateLimits, cfg.Router)
	}
	s := string(conf)
	wantIn(t, "rendered config", s,
		"map $portico_limit_scope $portico_limit_key {\n        \"\"      \"\";\n        default $binary_remote_addr$portico_limit_scope;\n    }",
		"limit_req_zone $portico_limit_key zone=portico_rps_5:10m rate=5r/s;",
		"limit_req_zone $portico_limit_key zone=portico_rpm_60:10m rate=60r/m;",
		"limit_conn_zone $portico_limit_key zone=portico_conn:10m;",
		"limit_req zone=portico_rpm_60 burst=300 nodelay;\n            limit_conn portico_conn 2;",
		"proxy_buffer_size 16k;",
		`set $portico_limit_scope "";`,
	)
	// Both limit-rps 5 Ingresses share one location; no zone of their own.
	if n := strings.Count(s, "limit_req zone=portico_rps_5 burst=25 nodelay;"); n != 1 {
		t.Errorf("%d locations apply limit-rps 5, want 1", n)
	}
	if strings.Contains(s, "portico_rl_") {
		t.Error("a routed Ingress has zones of its own")
	}
	nginxTestConfig(t, "router-limits", func(o plan.Options) *plan.Plan { return planOf(t, model.Build(in), o) })
}
