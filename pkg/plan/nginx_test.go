package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model"
)

// What the http context prints of the ConfigMap's settings: the
// X-Forwarded-* variables, where X-Request-ID is made, whether the router
// sets the access log's route labels, the HTTPS port in redirects.
func TestHTTP(t *testing.T) {
	global := func(data map[string]string) model.Global {
		return model.Build(model.Input{ConfigMap: configMap(data)}).Global
	}
	plainFwd := ForwardedVars{Proto: "$scheme", Host: "$portico_host", Port: "$server_port", For: "$remote_addr"}
	for _, tc := range []struct {
		name   string
		data   map[string]string
		opts   Options
		fwd    ForwardedVars
		byLua  bool
		id     string
		labels bool
		listen string
	}{
		{name: "defaults", opts: Options{HTTPSPort: 443}, fwd: plainFwd, byLua: true, id: "$portico_generated_id", listen: "443 ssl http2"},
		{name: "trusted forwarded headers, appended X-Forwarded-For, PROXY protocol, another HTTPS port",
			data:  map[string]string{"use-forwarded-headers": "true", "compute-full-forwarded-for": "true", "use-proxy-protocol": "true"},
			opts:  Options{HTTPSPort: 8443},
			fwd:   ForwardedVars{Proto: "$portico_fwd_proto", Host: "$portico_fwd_host", Port: "$portico_fwd_port", For: "$portico_fwd_for"},
			byLua: true, id: "$portico_generated_id", listen: "8443 ssl http2 proxy_protocol"},
		// compute-full-forwarded-for alone trusts nothing the client sent.
		{name: "compute-full-forwarded-for alone", data: map[string]string{"compute-full-forwarded-for": "true"}, opts: Options{HTTPSPort: 443},
			fwd: plainFwd, byLua: true, id: "$portico_generated_id"},
		// The log's id and the header's agree.
		{name: "the access log names $request_id", data: map[string]string{"log-format-upstream": "$remote_addr $request_id $portico_ingress"},
			opts: Options{HTTPSPort: 443}, fwd: plainFwd, id: "$request_id", labels: true},
		// Without an access log nothing is set for it: no route labels, and
		// the id comes from Lua even when the unused format names
		// $request_id.
		{name: "no access log", data: map[string]string{"log-format-upstream": "$remote_addr $request_id $portico_ingress", "disable-access-log": "true"},
			opts: Options{HTTPSPort: 443}, fwd: plainFwd, byLua: true, id: "$portico_generated_id"},
		{name: "generate-request-id off", data: map[string]string{"generate-request-id": "false"}, opts: Options{HTTPSPort: 443}, fwd: plainFwd, id: `""`},
	} {
		h := httpOf(global(tc.data), tc.opts)
		got := []any{h.Forwarded, h.RequestIDByLua, h.RequestIDVar, h.LogsRouteLabels, h.Listen[len(h.Listen)-1]}
		if tc.listen == "" {
			tc.listen = "443 ssl http2"
		}
		want := []any{tc.fwd, tc.byLua, tc.id, tc.labels, tc.listen}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
		if h.ProxyHeaders[0] != (Header{"Host", "$portico_host"}) || !cmp.Equal(h.ProxyHeaders[1:], h.forwardHeaders(false)) {
			t.Errorf("%s: http level headers %v", tc.name, h.ProxyHeaders)
		}
	}
}
