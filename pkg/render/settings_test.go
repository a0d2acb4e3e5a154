package render

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// settings sets every TLS, client, listener and worker key of the
// ConfigMap to a value other than its default.
var settings = map[string]string{
	"ssl-dh-param":                   "ingress-nginx/dh",
	"ssl-ecdh-curve":                 "X25519:secp384r1",
	"ssl-session-cache-size":         "32k",
	"ssl-session-timeout":            "1h",
	"ssl-session-tickets":            "true",
	"ssl-session-ticket-key":         base64.StdEncoding.EncodeToString([]byte(strings.Repeat("t", 80))),
	"ssl-buffer-size":                "16k",
	"http-redirect-code":             "301",
	"client-header-buffer-size":      "2k",
	"client-header-timeout":          "30",
	"client-body-timeout":            "20s",
	"large-client-header-buffers":    "8 16k",
	"enable-underscores-in-headers":  "true",
	"ignore-invalid-headers":         "false",
	"keep-alive":                     "10",
	"keep-alive-requests":            "50",
	"use-http2":                      "false",
	"http2-max-concurrent-streams":   "64",
	"bind-address":                   "127.0.0.1,::1",
	"reuse-port":                     "false",
	"worker-cpu-affinity":            "auto",
	"max-worker-open-files":          "4096",
	"max-worker-connections":         "0",
	"worker-shutdown-timeout":        "30s",
	"enable-multi-accept":            "false",
	"server-name-hash-max-size":      "2048",
	"server-name-hash-bucket-size":   "128",
	"proxy-headers-hash-max-size":    "1024",
	"proxy-headers-hash-bucket-size": "128",
	"variables-hash-max-size":        "4096",
	"variables-hash-bucket-size":     "128",
	"map-hash-bucket-size":           "128",
	"upstream-keepalive-time":        "30m",
	"retry-non-idempotent":           "true",
	"grpc-buffer-size-kb":            "64",
	"disable-ipv6-dns":               "true",
	"enable-ocsp":                    "true",
}

// settingsPlan is the seed's plan with settings, and IPv6 on the host.
func settingsPlan(t testing.TB, opts plan.Options) *plan.Plan {
	pem, err := os.ReadFile("../model/testdata/dhparam2048.pem")
	if err != nil {
		t.Fatal(err)
	}
	dh := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "dh"}, Data: map[string][]byte{"dhparam.pem": pem}}
	cfg := model.Build(model.Input{Secrets: []*corev1.Secret{dh}, ConfigMap: controllerConfigMap(settings)})
	if len(cfg.Diagnostics) != 0 {
		t.Fatalf("diagnostics: %v", cfg.Diagnostics)
	}
	opts.IPv6 = true
	return staticPlan(t, seedModel(cfg.Global), opts)
}

// Every key reaches nginx.conf as the directives it stands for.
func TestRenderSettings(t *testing.T) {
	s := renderConf(t, settingsPlan(t, testOptions))
	wantIn(t, "nginx.conf", s,
		"\nworker_cpu_affinity auto;\n",
		"\nworker_rlimit_nofile 4096;\n",
		"\nworker_shutdown_timeout 30s;\n",
		"\n    worker_connections 3072;\n    multi_accept off;\n",
		"\n    server_names_hash_bucket_size 128;\n    server_names_hash_max_size 2048;\n",
		"\n    variables_hash_bucket_size 128;\n    variables_hash_max_size 4096;\n    map_hash_bucket_size 128;\n",
		"\n    proxy_headers_hash_bucket_size 128;\n    proxy_headers_hash_max_size 1024;\n",
		"\n    keepalive_timeout 10s;\n    keepalive_requests 50;\n",
		"\n    client_header_buffer_size 2k;\n    large_client_header_buffers 8 16k;\n",
		"\n    client_header_timeout 30s;\n    client_body_timeout 20s;\n",
		"\n    underscores_in_headers on;\n    ignore_invalid_headers off;\n    http2_max_concurrent_streams 64;\n",
		"\n    ssl_dhparam /etc/nginx/run/auth/dhparam-",
		"\n    ssl_ecdh_curve X25519:secp384r1;\n",
		"\n    ssl_session_cache shared:PorticoSSL:32k;\n    ssl_session_timeout 1h;\n",
		"\n    ssl_session_tickets on;\n    ssl_buffer_size 16k;\n",
		"\n    ssl_session_ticket_key /etc/nginx/run/auth/ticketkey-",
		"\n    proxy_next_upstream error timeout non_idempotent;\n    grpc_next_upstream error timeout non_idempotent;\n",
		"\n    grpc_buffer_size 64k;\n",
		"\n        keepalive_time 30m;\n",
		"\n        listen 127.0.0.1:80 default_server backlog=4096;\n        listen [::1]:80 default_server backlog=4096;\n"+
			"        listen 127.0.0.1:443 ssl default_server backlog=4096;\n        listen [::1]:443 ssl default_server backlog=4096;\n",
		"\n        listen 127.0.0.1:80;\n        listen [::1]:80;\n        listen 127.0.0.1:443 ssl;\n        listen [::1]:443 ssl;\n",
		"\n                return 301 https://$host$portico_uri_no_slash;\n",
		"\n    lua_shared_dict portico_ocsp 16m;\n",
	)
	wantNotIn(t, "nginx.conf", strings.ReplaceAll(s, "http2_max_concurrent_streams", ""), "http2", "reuseport", "[::]")
	// Without a session cache neither its size nor its timeout is set.
	noCache := renderConf(t, configWith(t, map[string]string{"ssl-session-cache": "false"}, testOptions))
	wantNotIn(t, "nginx.conf with ssl-session-cache false", noCache, "ssl_session_cache", "ssl_session_timeout")
}

// The same settings pass the real nginx -t, DH parameters and ticket key
// files included.
func TestRenderSettingsPassNginxTest(t *testing.T) {
	nginxTestConfig(t, "settings", func(o plan.Options) *plan.Plan { return settingsPlan(t, o) })
}
