package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// headersPlan is the seed's plan with every header key set, and the
// ConfigMaps of add-headers and proxy-set-headers.
func headersPlan(t testing.TB, opts plan.Options) *plan.Plan {
	cm := controllerConfigMap(map[string]string{
		"add-headers": "ingress-nginx/response", "proxy-set-headers": "ingress-nginx/request", "hide-headers": "X-Powered-By,X-Runtime",
		"allow-backend-server-header": "true", "proxy-add-original-uri-header": "true"})
	named := []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "response"},
			Data: map[string]string{"X-Frame-Options": "DENY", "Clear-Site-Data": `"cache"`, "X-Served-By": "$hostname"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "request"},
			Data: map[string]string{"X-Using-Portico": "true", "X-Forwarded-Proto": "https", "X-Client": "$remote_addr:$remote_port"}},
	}
	return staticPlan(t, seedModel(model.Build(model.Input{ConfigMap: cm, ConfigMaps: named}).Global), opts)
}

// The header keys print at the http level: more_set_headers (its module
// loaded) for add-headers, proxy_set_header for proxy-set-headers in
// place of Portico's of the same name, proxy_hide_header and
// grpc_hide_header, proxy_pass_header Server, X-Original-URI; by default
// none of them, and X-Original-URI only to auth services and error
// backends.
func TestRenderHeaders(t *testing.T) {
	s := renderConf(t, headersPlan(t, testOptions))
	wantIn(t, "nginx.conf", s,
		"\nload_module /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so;\n",
		"\n    more_set_headers \"Clear-Site-Data: \\\"cache\\\"\";\n    more_set_headers \"X-Frame-Options: DENY\";\n    more_set_headers \"X-Served-By: $hostname\";\n",
		"\n    proxy_pass_header Server;\n    grpc_pass_header Server;\n",
		"\n    proxy_hide_header X-Powered-By;\n    grpc_hide_header X-Powered-By;\n    proxy_hide_header X-Runtime;\n",
		"\n    proxy_set_header X-Forwarded-Scheme $scheme;\n    proxy_set_header X-Original-URI $request_uri;\n    proxy_set_header X-Request-ID $portico_request_id;\n"+
			"    proxy_set_header X-Client \"$remote_addr:$remote_port\";\n    proxy_set_header X-Forwarded-Proto \"https\";\n    proxy_set_header X-Using-Portico \"true\";\n",
	)
	if strings.Contains(s, "X-Forwarded-Proto $scheme;") {
		t.Error("Portico's X-Forwarded-Proto is sent beside proxy-set-headers'")
	}
	wantNotIn(t, "default nginx.conf", renderConf(t, configWith(t, nil, testOptions)),
		"headers_more", "more_set_headers", "hide_header", "pass_header", "proxy_set_header X-Original-URI")
}

// The header directives pass the real nginx -t with Debian's headers-more
// module loaded.
func TestRenderHeadersPassNginxTest(t *testing.T) {
	nginxTestConfig(t, "headers", func(o plan.Options) *plan.Plan { return headersPlan(t, o) })
}
