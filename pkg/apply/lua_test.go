package apply_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-ingress/portico/pkg/apply"
)

// TestLua runs the Lua unit tests in testdata/lua inside a real nginx.
func TestLua(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (make deps installs it)")
	}
	dir := workerDir(t)
	lua, _ := filepath.Abs("../../rootfs/etc/nginx/lua")
	tests, _ := filepath.Abs("testdata/lua")
	// The routing cases every matcher is tested on (match_test.lua).
	cases, _ := filepath.Abs("../model/testdata/match.json")
	// htpasswd files of router_test.lua's basic auth: alice's password is
	// "wonderland", bob's "builder" ({SHA}, which nginx verifies).
	if err := os.MkdirAll(filepath.Join(dir, "auth"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, line := range map[string]string{"ns_users": "alice:{SHA}tiY7sUhYKUwI5L3866kDY+ENcrQ=\n", "ns_others": "bob:{SHA}9SMYoF5RilWWASry7TjeaKwmpGg=\n"} {
		if err := os.WriteFile(filepath.Join(dir, "auth", name), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := fmt.Sprintf(`load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
pid %[1]s/nginx.pid;
error_log stderr notice;
events {}
http {
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    access_log off;
    lua_package_path "%[2]s/?.lua;%[3]s/?.lua;;";
    lua_shared_dict portico_backends 1m;
    lua_shared_dict portico_certificates 1m;
    lua_shared_dict portico_metrics 1m;
    lua_shared_dict portico_routes 1m;
    # The router's rate limits: 1 r/s, burst 1 (see router_test.lua).
    map $portico_limit_scope $portico_limit_key {
        ""      "";
        default $binary_remote_addr$portico_limit_scope;
    }
    limit_req_zone $portico_limit_key zone=portico_rps_1:1m rate=1r/s;
    # The master loads every module: workers may not be able to read them.
    # As nginx.conf's: the Host as the client sent it.
    map $http_host $portico_host {
        default $http_host;
        ""      $host;
    }
    init_by_lua_block {
        portico = require("portico.balancer")
        portico_router = require("portico.router")
        for _, m in ipairs({"runner", "round_robin_test", "ewma_test", "configure_test", "canary_test", "chash_test", "sticky_test", "metrics_test", "router_test", "cidr_test", "match_test", "tracing_test"}) do require(m) end
        local f = assert(io.open("%[5]s"))
        portico_match_cases = f:read("*a")
        f:close()
    }
    # Declares the variables of auth-url and X-Request-ID, as the status
    # server of nginx.conf does: the auth subrequest runs the set of its
    # own server, which must not clear what the router set.
    server {
        listen unix:%[1]s/declare.sock;
        set $portico_generated_id "";
        set $portico_auth_url "";
        set $portico_auth_host "";
        set $portico_auth_method "";
        set $portico_signin "";
        set $portico_signin_mode "";
        set $portico_auth_cache_scope "";
    }
    server {
        listen 127.0.0.1:%[4]d;
        location = /run { content_by_lua_block { require("runner").run() } }
        location = /configuration/backends {
            client_body_buffer_size 1m;
            content_by_lua_block { portico.configure() }
        }
        location = /configuration/routes {
            client_body_buffer_size 1m;
            content_by_lua_block { require("portico.router").configure() }
        }
        # Routed by the Lua router (subrequests skip the access phase).
        set $portico_backend "";
        set $portico_server "";
        set $portico_ingress "";
        set $portico_path "";
        set $portico_route_vhost "";
        set $portico_route_pass "";
        set $portico_limit_scope "";
        set $portico_basic_realm "";
        set $portico_basic_file "";
        set $portico_err_backend "";
        set $portico_err_namespace "";
        set $portico_err_ingress "";
        set $portico_err_service "";
        set $portico_err_port "";
        # A router location that sends neither the router's Host nor its
        # upstream (before the reload that adds them).
        location /vh-old/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say("proxied") }
        }
        location /vh/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false, nil, true, true) }
            content_by_lua_block { ngx.say(ngx.var.portico_route_vhost, "|", ngx.var.portico_route_pass) }
        }
        # "/" itself (app-root).
        location = / {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say("root ", ngx.var.portico_backend) }
        }
        location /routed/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", true) }
            content_by_lua_block {
                local v = ngx.var
                ngx.say(v.portico_backend, "|", v.portico_server, "|", v.portico_ingress, "|", v.portico_path, "|", ngx.header["Strict-Transport-Security"] or "", "|", ngx.ctx.portico_route.labels)
            }
        }
        location /routed/id/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say(ngx.var.portico_generated_id) }
        }
        # Rewrites of routes.
        location /rw/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say(ngx.var.uri, "?", ngx.var.args, " ", ngx.var.portico_backend, " ", ngx.var.http_x_forwarded_prefix) }
        }
        # The same when the access log names no route label.
        location /routed/lean/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block {
                local v = ngx.var
                ngx.say(v.portico_backend, "|", v.portico_server, "|", v.portico_ingress, "|", v.portico_path, "|", ngx.ctx.portico_route.labels)
            }
        }
        # Routed by the Host of real requests (router_test.lua's request()
        # and raw()), as the Router's "/".
        location /by-host/ {
            access_by_lua_block { require("portico.router").route(":8443", true) }
            content_by_lua_block {
                local v = ngx.var
                ngx.say("router ", v.uri, "?", v.args, " ", v.portico_backend, "|", v.portico_server, "|", v.portico_ingress, "|", v.portico_path)
            }
        }
        # The location of a body limit and proxy settings.
        location @portico_proxy_00112233aabbccdd {
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_00112233aabbccdd") }
            content_by_lua_block { ngx.say("settled ", ngx.var.uri, " ", ngx.var.portico_backend) }
        }
        # The location of a rate limit.
        location @portico_proxy_11112222aaaabbbb {
            limit_req zone=portico_rps_1 burst=1 nodelay;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_11112222aaaabbbb") }
            content_by_lua_block { ngx.say("limited ", ngx.var.portico_limit_scope) }
        }
        # The location of custom errors (the content stands for a backend
        # answering with the status the URI names, which ngx.exit keeps
        # for the error page's answer) and the error pages.
        location @portico_proxy_33334444ccccdddd {
            error_page 404 = @portico_route_error_404;
            error_page 502 = @portico_route_error_502;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_33334444ccccdddd") }
            content_by_lua_block {
                local code = tonumber(ngx.var.uri:match("(%%d+)$"))
                if code then return ngx.exit(code) end
                ngx.say("answered ", ngx.var.portico_backend)
            }
        }
        # The location of basic auth (router_test.lua; the files are in
        # <dir>/auth).
        location @portico_proxy_55556666eeeeffff {
            auth_basic $portico_basic_realm;
            auth_basic_user_file %[1]s/auth/$portico_basic_file;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_55556666eeeeffff") }
            content_by_lua_block { ngx.say("welcome ", ngx.var.remote_user) }
        }
        location @portico_route_error_404 {
            content_by_lua_block {
                local v = ngx.var
                ngx.say("error 404 ", v.portico_err_backend, " ", v.portico_err_namespace, "/", v.portico_err_ingress, " ", v.portico_err_service, ":", v.portico_err_port)
            }
        }
        location @portico_route_error_502 {
            content_by_lua_block {
                local v = ngx.var
                ngx.say("error 502 ", v.portico_err_backend, " ", v.portico_err_namespace, "/", v.portico_err_ingress, " ", v.portico_err_service, ":", v.portico_err_port)
            }
        }
        # The location of auth-url, the auth location and the sign-in
        # redirect, as nginx.conf has them (the auth service is
        # /auth-service/ below).
        location @portico_proxy_77778888aaaabbbb {
            auth_request "/;portico-auth";
            auth_request_set $portico_auth_x_user $upstream_http_x_user;
            error_page 401 = @portico_signin;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_77778888aaaabbbb") }
            content_by_lua_block { ngx.say("authed ", ngx.var.portico_auth_x_user, " ", ngx.var.portico_backend, " ", ngx.var.portico_generated_id) }
        }
        location = "/;portico-auth" {
            internal;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Host $portico_auth_host;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Request-ID $portico_generated_id;
            proxy_set_header X-Cache-Scope $portico_auth_cache_scope;
            proxy_method $portico_auth_method;
            proxy_pass $portico_auth_url;
        }
        location @portico_signin {
            set_by_lua_block $portico_signin_rd {
                return portico_router.signin_rd(ngx.var.portico_signin_mode)
            }
            return 302 "$portico_signin$portico_signin_rd";
        }
        # An auth service: /auth-service/<status> answers that status, and
        # tells in X-User what it saw (method, Host, X-Request-ID,
        # X-Original-URI, the cache scope).
        location /auth-service/ {
            content_by_lua_block {
                local v = ngx.var
                ngx.header["X-User"] = table.concat({ v.request_method, v.http_host, v.http_x_request_id or "", v.http_x_original_uri or "",
                    v.http_x_cache_scope or "" }, ",")
                ngx.exit(tonumber(v.uri:match("(%%d+)$")))
            }
        }
    }
}
`, dir, lua, tests, port, cases)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &apply.Nginx{Binary: nginx, Conf: path, Stderr: os.Stderr}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Stop(5 * time.Second)
	for _, suite := range []string{"round_robin", "ewma", "configure", "canary", "chash", "sticky", "metrics", "router", "cidr", "match", "tracing"} {
		t.Run(suite, func(t *testing.T) {
			var body string
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/run?suite=%s", port, suite))
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					body = string(b)
					break
				}
				if time.Now().After(deadline) {
					t.Fatal(err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
				if strings.HasPrefix(line, "FAIL") {
					t.Error(line)
				}
			}
			if !strings.HasSuffix(strings.TrimSpace(body), " passed, 0 failed") || strings.HasPrefix(body, "0 passed") {
				t.Errorf("lua suite %s:\n%s", suite, body)
			}
		})
	}
}
