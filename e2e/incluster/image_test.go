package incluster

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// luaCheckConf loads the Lua module and Portico's Lua modules as
// nginx.conf does (nginx -t does not run init_by_lua: nginx must start),
// and the modules nginx.conf loads when the ConfigMap asks (Brotli,
// headers-more; ModSecurity with Portico's rules and the Core Rule Set
// from their paths in the image; GeoIP2) or a stream flag is set (stream,
// njs, with Portico's njs script: TCP/UDP services, passthrough), and
// answers on a unix socket
// from Lua.
const luaCheckConf = `pid /tmp/check.pid;
error_log stderr notice;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
load_module /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so;
load_module /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so;
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module /usr/lib/nginx/modules/ngx_stream_js_module.so;
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
load_module /usr/lib/nginx/modules/ngx_http_geoip2_module.so;
events {}
stream {
    js_import portico_stream from /etc/nginx/lua/portico/stream.js;
    js_set $portico_peer portico_stream.peer;
    server {
        listen unix:/tmp/check-stream.sock;
        proxy_pass $portico_peer;
    }
}
http {
    brotli on;
    more_set_headers "X-Image: checked";
    modsecurity on;
    modsecurity_rules_file /etc/nginx/modsecurity/modsecurity.conf;
    modsecurity_rules_file /etc/nginx/owasp-modsecurity-crs/nginx-modsecurity.conf;
    lua_package_path "/etc/nginx/lua/?.lua;;";
    lua_shared_dict portico_backends 1m;
    lua_shared_dict portico_certificates 1m;
    lua_shared_dict portico_routes 1m;
    lua_shared_dict portico_metrics 1m;
    client_body_temp_path /tmp;
    proxy_temp_path /tmp;
    fastcgi_temp_path /tmp;
    uwsgi_temp_path /tmp;
    scgi_temp_path /tmp;
    access_log off;
    init_by_lua_block {
        require("resty.core")
        require("portico.router")
        require("portico.certificates")
    }
    server {
        listen unix:/tmp/check.sock;
        location / {
            content_by_lua_block {
                ngx.say(require("cjson").encode({lua = "loaded"}))
            }
        }
    }
}
`

// The controller image as the Dockerfile builds it (the docker archive of
// hack/cluster/images.sh), run from its files as user 101: nginx -V;
// nginx starts with the Lua modules and Portico's and answers from Lua;
// uid 101 can replace /etc/nginx/nginx.conf and write /etc/nginx/run;
// nginx and portico carry the capability to bind :80; portico says its
// version; the image runs portico controller as 101.
func TestImageContents(t *testing.T) {
	rootfs := t.TempDir()
	cfg := unpackImage(t, env.images[0], rootfs)
	if cfg.Config.User != "101:101" || strings.Join(cfg.Config.Entrypoint, " ") != "/usr/bin/portico" ||
		strings.Join(cfg.Config.Cmd, " ") != "controller" {
		t.Errorf("image config: user %q entrypoint %q cmd %q, want 101:101 /usr/bin/portico controller",
			cfg.Config.User, cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	// as101 returns a command run inside the image's files as user 101.
	as101 := func(args ...string) *exec.Cmd {
		return exec.Command("chroot", append([]string{"--userspec=101:101", rootfs}, args...)...)
	}
	checks := []struct {
		args []string
		want string
	}{
		{[]string{"/usr/sbin/nginx", "-V"}, "with-http_ssl_module"},
		{[]string{"sh", "-c", "cd /etc/nginx && echo x >.probe && mv .probe nginx.conf && touch run/x && echo writable"}, "writable"},
		{[]string{"/usr/bin/portico", "version"}, "dev"},
	}
	for _, c := range checks {
		out, err := as101(c.args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s in the image: %v, output lacks %q:\n%s", strings.Join(c.args, " "), err, c.want, out)
		}
	}
	for _, bin := range []string{"usr/sbin/nginx", "usr/bin/portico"} {
		out, err := exec.Command("getcap", filepath.Join(rootfs, bin)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "cap_net_bind_service=ep") {
			t.Errorf("getcap /%s: %v %q, want cap_net_bind_service=ep", bin, err, out)
		}
	}

	if err := os.WriteFile(filepath.Join(rootfs, "tmp", "check.conf"), []byte(luaCheckConf), 0o644); err != nil {
		t.Fatal(err)
	}
	nginx := as101("/usr/sbin/nginx", "-c", "/tmp/check.conf", "-g", "daemon off; master_process off;")
	var log bytes.Buffer
	nginx.Stdout, nginx.Stderr = &log, &log
	if err := nginx.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- nginx.Wait() }()
	defer func() {
		_ = nginx.Process.Kill()
		<-exited
	}()
	sock := filepath.Join(rootfs, "tmp", "check.sock")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("nginx with the Lua modules exited: %v\n%s", err, log.String())
		default:
		}
		resp, err := client.Get("http://image/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"lua":"loaded"}` || resp.Header.Get("X-Image") != "checked" {
				t.Fatalf("nginx with the Lua modules: %d %q\n%s", resp.StatusCode, body, log.String())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx with the Lua modules does not answer: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// imageConfig is the part of an image's configuration the test checks.
type imageConfig struct {
	Config struct {
		User       string
		Entrypoint []string
		Cmd        []string
	} `json:"config"`
}

// unpackImage extracts the layers of a docker archive into dir, in order,
// with their extended attributes (file capabilities), and returns the
// image's configuration.
func unpackImage(t *testing.T, archive, dir string) imageConfig {
	t.Helper()
	tmp := t.TempDir()
	if out, err := exec.Command("tar", "-xf", archive, "-C", tmp).CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", archive, err, out)
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	b, err := os.ReadFile(filepath.Join(tmp, "manifest.json"))
	if err == nil {
		err = json.Unmarshal(b, &manifest)
	}
	if err != nil || len(manifest) != 1 {
		t.Fatalf("%s: manifest.json: %v (%d images)", archive, err, len(manifest))
	}
	for _, layer := range manifest[0].Layers {
		if err := extractLayer(filepath.Join(tmp, layer), dir); err != nil {
			t.Fatal(err)
		}
	}
	var cfg imageConfig
	if b, err = os.ReadFile(filepath.Join(tmp, manifest[0].Config)); err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		t.Fatalf("%s: image config: %v", archive, err)
	}
	return cfg
}

// extractLayer applies a layer: GNU tar extracts it with its extended
// attributes, then whiteouts (.wh.NAME) delete what lower layers had.
func extractLayer(layer, dir string) error {
	f, err := os.Open(layer)
	if err != nil {
		return err
	}
	defer f.Close()
	var whiteouts []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if base := filepath.Base(h.Name); strings.HasPrefix(base, ".wh.") {
			whiteouts = append(whiteouts, h.Name)
		}
	}
	for _, w := range whiteouts {
		parent, base := filepath.Split(w)
		if base == ".wh..wh..opq" {
			entries, _ := os.ReadDir(filepath.Join(dir, parent))
			for _, e := range entries {
				os.RemoveAll(filepath.Join(dir, parent, e.Name()))
			}
			continue
		}
		os.RemoveAll(filepath.Join(dir, parent, strings.TrimPrefix(base, ".wh.")))
	}
	out, err := exec.Command("tar", "--xattrs", "--xattrs-include=*", "--exclude=.wh.*", "-xpf", layer, "-C", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("extract %s: %w\n%s", layer, err, out)
	}
	return nil
}
