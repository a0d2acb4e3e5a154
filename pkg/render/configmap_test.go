package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// allOptions sets every proxy, logging and process option of the ConfigMap
// to a value other than its default.
var allOptions = map[string]string{
	"proxy-body-size":                "8m",
	"proxy-connect-timeout":          "3",
	"proxy-read-timeout":             "120s",
	"proxy-send-timeout":             "90",
	"use-forwarded-headers":          "true",
	"compute-full-forwarded-for":     "true",
	"enable-real-ip":                 "true",
	"proxy-real-ip-cidr":             "10.0.0.0/8, 192.168.1.7",
	"use-proxy-protocol":             "true",
	"worker-processes":               "2",
	"log-format-upstream":            "$remote_addr [$time_iso8601] $status $request_time $portico_ingress $http_x_trace_id",
	"server-tokens":                  "true",
	"upstream-keepalive-connections": "0",
	"upstream-keepalive-timeout":     "30",
	"upstream-keepalive-requests":    "50",
	"disable-access-log":             "true",
}

// controllerConfigMap is the controller's ConfigMap with data.
func controllerConfigMap(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "portico"}, Data: data}
}

// configWith is the seed's plan with the ConfigMap data.
func configWith(t testing.TB, data map[string]string, opts plan.Options) *plan.Plan {
	return staticPlan(t, seedModel(model.Build(model.Input{ConfigMap: controllerConfigMap(data)}).Global), opts)
}

// Every option reaches nginx.conf as the directive it stands for.
func TestRenderConfigMapOptions(t *testing.T) {
	s := renderConf(t, configWith(t, allOptions, testOptions))
	wantIn(t, "nginx.conf", s,
		"\nworker_processes 2;\n",
		"\n    server_tokens on;\n",
		"\n    client_max_body_size 8m;\n",
		"\n    proxy_connect_timeout 3s;\n",
		"\n    proxy_read_timeout 120s;\n",
		"\n    proxy_send_timeout 90s;\n",
		"\n    log_format portico '$remote_addr [$time_iso8601] $status $request_time $portico_ingress $http_x_trace_id';\n",
		"\n    set_real_ip_from 10.0.0.0/8;\n    set_real_ip_from 192.168.1.7/32;\n    real_ip_header proxy_protocol;\n",
		"default $http_x_forwarded_proto;",
		`default "$http_x_forwarded_for, $realip_remote_addr";`,
		"\n    proxy_set_header X-Forwarded-For $portico_fwd_for;\n",
		"\n    proxy_set_header X-Forwarded-Proto $portico_fwd_proto;\n",
		"\n        listen 80 proxy_protocol default_server reuseport backlog=4096;\n",
		"\n        listen 443 ssl http2 proxy_protocol;\n",
		"\n    access_log off; # disable-access-log\n",
	)
	wantNotIn(t, "nginx.conf", s, "keepalive 320;", "keepalive_timeout 30s;", "server_tokens off;")
	defaults := renderConf(t, configWith(t, nil, testOptions))
	wantIn(t, "default nginx.conf", defaults, "\nworker_processes auto;\n", "\n    client_max_body_size 1m;\n", "\n        keepalive 320;\n",
		"\n    access_log /dev/stdout portico buffer=64k flush=1s;\n",
		"\n        keepalive_timeout 60s;\n", "\n    proxy_set_header X-Forwarded-For $remote_addr;\n",
		"\n    proxy_set_header X-Forwarded-Proto $scheme;\n")
	if strings.Contains(defaults, "real_ip_header") {
		t.Error("default nginx.conf trusts a real-IP source")
	}
	// The X-Forwarded-* headers send nginx's variables: no map per request.
	if strings.Contains(defaults, "$portico_fwd_") {
		t.Error("default nginx.conf sends X-Forwarded-* headers through maps")
	}
}

// Every option set at once still passes the real nginx -t, as do the
// X-Forwarded-For real-IP source and custom keep-alive settings.
func TestRenderConfigMapOptionsPassNginxTest(t *testing.T) {
	xff := map[string]string{"enable-real-ip": "true", "upstream-keepalive-connections": "16", "upstream-keepalive-timeout": "5"}
	for name, data := range map[string]map[string]string{"all": allOptions, "x-forwarded-for": xff} {
		nginxTestConfig(t, name, func(o plan.Options) *plan.Plan { return configWith(t, data, o) })
	}
}
