package diagnose

import (
	"os"
	"strings"
	"testing"
)

const sampleConf = `http {
    # a comment with a brace {
    server {
        listen 127.0.0.1:10246;
        location /configuration { content_by_lua_block { portico.configure() } }
    }
    server {
        listen 80 default_server backlog=4096;
        server_name "_";
        location / { return 404; }
    }
    server {
        listen 80;
        server_name "~^[^.]+\.example\.com$";
        location / { set $x "}"; }
    }
    server {
        listen 80;
        server_name "app.example.com";
        location = /api { proxy_pass http://upstream_balancer; }
    }
}
`

func TestServersFor(t *testing.T) {
	blocks := ServerBlocks(sampleConf)
	if len(blocks) != 4 {
		t.Fatalf("got %d server blocks, want 4", len(blocks))
	}
	tests := []struct{ host, want string }{
		{"app.example.com", `server_name "app.example.com"`},
		{"APP.example.com", `server_name "app.example.com"`},
		{"x.example.com", `server_name "~^[^.]+\.example\.com$"`},
		{"a.b.example.com", `server_name "_"`},
		{"other.org", `server_name "_"`},
	}
	for _, tt := range tests {
		got := ServersFor(blocks, tt.host)
		if len(got) != 1 || !strings.Contains(got[0].Text, tt.want) {
			t.Errorf("ServersFor(%q) = %d blocks %+v, want one with %q", tt.host, len(got), got, tt.want)
			continue
		}
		if !strings.HasPrefix(got[0].Text, "    server {") || !strings.HasSuffix(got[0].Text, "}") {
			t.Errorf("block text not whole: %q", got[0].Text)
		}
	}
}

func TestStreamContext(t *testing.T) {
	conf, err := os.ReadFile("../render/testdata/stream.nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	st := StreamContext(string(conf))
	if !strings.HasPrefix(st, "# TCP and UDP services") || !strings.Contains(st, "\nstream {\n") || !strings.HasSuffix(st, "}") || !strings.Contains(st, "listen 53 udp;") ||
		strings.Contains(st, "http {") {
		t.Errorf("StreamContext:\n%s", st)
	}
	for _, tt := range []struct {
		port int
		udp  bool
		want string // "" for none
	}{
		{5432, false, "    # tcp/5432 to web/app:80\n    server {\n        listen 5432 proxy_protocol;"},
		{6379, false, "    # tcp/6379 to web/app:80\n    server {\n        listen 6379;"},
		{53, true, "    # udp/53 to web/dns:53\n    server {\n        listen 53 udp;"},
		{53, false, ""},
		{5432, true, ""},
		{443, false, "    server {\n        listen 443;\n        ssl_preread on;"},
	} {
		got := StreamServerFor(string(conf), tt.port, tt.udp)
		if !strings.HasPrefix(got, tt.want) || (tt.want == "") != (got == "") || (got != "" && !strings.HasSuffix(got, "}")) {
			t.Errorf("StreamServerFor(%d, udp %v):\n%s\nwant it to start with\n%s", tt.port, tt.udp, got, tt.want)
		}
	}
	for _, host := range []string{"argocd.example.com", "ARGOCD.example.com", "x.pass.example.com"} {
		got := PassthroughFor(string(conf), host)
		for _, want := range []string{`map $ssl_preread_server_name $portico_passthrough {`, `"argocd.example.com" "tls-web_app:80";`,
			"map $portico_passthrough $portico_front_pass {", "listen 443;", "listen unix:/etc/nginx/run/passthrough.sock proxy_protocol;"} {
			if !strings.Contains(got, want) {
				t.Errorf("PassthroughFor(%q) lacks %q:\n%s", host, want, got)
			}
		}
	}
	for _, host := range []string{"app.example.com", "a.b.pass.example.com", "pass.example.com"} {
		if got := PassthroughFor(string(conf), host); got != "" {
			t.Errorf("PassthroughFor(%q), not a passthrough host:\n%s", host, got)
		}
	}
	// The server blocks of http are still found beside stream's.
	if b := ServersFor(ServerBlocks(string(conf)), "argocd.example.com"); len(b) == 0 || strings.Contains(b[0].Text, "ssl_preread") {
		t.Errorf("ServersFor(argocd.example.com) = %+v", b)
	}
}
