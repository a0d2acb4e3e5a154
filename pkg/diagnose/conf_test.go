package diagnose

import (
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
