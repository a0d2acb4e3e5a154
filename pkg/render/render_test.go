package render

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var testOptions = plan.Options{HTTPPort: 80, HTTPSPort: 443, StatusPort: 10246, RunDir: "/etc/nginx/run", LuaDir: "/etc/nginx/lua",
	ModulesDir: "/usr/lib/nginx/modules", DefaultCertificate: "/etc/nginx/run/default.crt", DefaultCertificateKey: "/etc/nginx/run/default.key"}

// seedModel is the seed's Ingress on app.example.com (TLS,
// rewrite-target), a wildcard host and the catch-all server, with g.
func seedModel(g model.Global) *model.Config {
	ref := model.IngressRef{Namespace: "ingress-lab", Name: "path-ingress"}
	return &model.Config{Global: g, Servers: []*model.Server{
		{Default: true, Locations: []*model.Location{{Path: "/"}}},
		{Host: "*.example.com", Locations: []*model.Location{
			{Path: "/", Backend: "ingress-lab/frontend-service:80", Ingress: ref, IngressPath: "/"},
		}},
		{Host: "app.example.com", TLS: &model.ServerTLS{Certificate: "ingress-lab/app-tls-secret"}, Locations: []*model.Location{
			{Modifier: model.ModRegex, Path: "^/api", Backend: "ingress-lab/api-service:80", Ingress: ref, IngressPath: "/api", RewriteTarget: "/", SSLRedirect: true},
			{Modifier: model.ModRegex, Path: "^/", Backend: "ingress-lab/frontend-service:80", Ingress: ref, IngressPath: "/", SSLRedirect: true},
		}},
	}}
}

// staticPlan is the plan of m with every host a server block that makes
// X-Request-ID early.
func staticPlan(t testing.TB, m *model.Config, opts plan.Options) *plan.Plan {
	t.Helper()
	m.Global.DynamicRouting = false
	p := planOf(t, m, opts)
	for _, s := range p.Servers {
		s.MakesRequestID, s.AccessMakesRequestID = true, false
		for _, l := range s.Locations {
			l.AccessMakesRequestID = false
		}
	}
	return p
}

// seedPlan is seedModel's with defaults, as staticPlan makes it.
func seedPlan(t testing.TB, opts plan.Options) *plan.Plan {
	return staticPlan(t, seedModel(model.Build(model.Input{}).Global), opts)
}

// planOf is the plan of cfg as the controller makes it, with no previous
// plan.
func planOf(t testing.TB, cfg *model.Config, opts plan.Options) *plan.Plan {
	t.Helper()
	p, err := plan.Make(cfg, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRenderGolden(t *testing.T) {
	conf, sum, err := Render(seedPlan(t, testOptions))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(conf, []byte("# checksum "+sum+"\n")) || bytes.Contains(conf, []byte(placeholder)) {
		t.Fatalf("checksum %s not embedded in place of the placeholder", sum)
	}
	checkGolden(t, "seed.nginx.conf", conf)
}

func TestRenderIsDeterministicAndChecksumFollowsContent(t *testing.T) {
	a, sumA, _ := Render(seedPlan(t, testOptions))
	b, sumB, _ := Render(seedPlan(t, testOptions))
	if !bytes.Equal(a, b) || sumA != sumB {
		t.Fatal("same input rendered differently")
	}
	if !bytes.HasPrefix(a, []byte(Header)) {
		t.Fatalf("config does not start with %q", Header)
	}
	m := seedModel(model.Build(model.Input{}).Global)
	m.Servers[2].Locations[0].RewriteTarget = ""
	_, sumC, _ := Render(staticPlan(t, m, testOptions))
	if sumC == sumA {
		t.Fatal("checksum did not change with the config")
	}
}

// The rendered config must pass the real nginx -t with the Lua module.
func TestRenderPassesNginxTest(t *testing.T) {
	nginxTestConfig(t, "seed", func(o plan.Options) *plan.Plan { return seedPlan(t, o) })
}

// checkGolden compares conf with testdata/name; -update rewrites the file.
func checkGolden(t *testing.T, name string, conf []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, conf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/render -update to create it)", err)
	}
	if !bytes.Equal(conf, want) {
		t.Errorf("rendered config differs from %s; run go test ./pkg/render -update and review the diff", golden)
	}
}

// nginxTestConfig renders the plan made with real paths (temp dir,
// default certificate, Portico's Lua modules) and runs the real nginx -t
// on it.
func nginxTestConfig(t *testing.T, name string, make func(plan.Options) *plan.Plan) {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (make deps installs it)")
	}
	dir := t.TempDir()
	opts := testOptions
	opts.RunDir = dir
	opts.HTTPPort, opts.HTTPSPort = 18080, 18443
	// Any certificate and key nginx can load stand for the default one.
	opts.DefaultCertificate, _ = filepath.Abs("testdata/backend-client.pem")
	opts.DefaultCertificateKey, _ = filepath.Abs("testdata/backend-client-key.pem")
	opts.LuaDir, _ = filepath.Abs("../../rootfs/etc/nginx/lua")
	opts.Resolvers = []string{"127.0.0.53", "[::1]"}
	p := make(opts)
	conf, _, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	// The files the controller writes before nginx loads a config
	// (auth-tls CA bundles are read at load).
	if err := os.Mkdir(filepath.Join(dir, "auth"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range p.AuthFiles {
		if err := os.WriteFile(filepath.Join(dir, "auth", name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(nginx, "-t", "-e", "stderr", "-c", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("%s: nginx -t: %v\n%s", name, err, out)
	}
}
