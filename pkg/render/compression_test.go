package render

import (
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/plan"
)

// compressionOptions turn gzip and Brotli on with values other than
// their defaults.
var compressionOptions = map[string]string{
	"use-gzip": "true", "gzip-level": "5", "gzip-min-length": "100", "gzip-types": "text/html application/json text/css",
	"gzip-disable": `msie [1-6]\.`, "enable-brotli": "true", "brotli-level": "6", "brotli-min-length": "30",
	"brotli-types": "*",
}

// use-gzip and enable-brotli print their filters' directives, text/html
// left out of the types (nginx always compresses it), and load the Brotli
// module; gzip_vary is on with either; by default neither is there.
func TestRenderCompression(t *testing.T) {
	s := renderConf(t, configWith(t, compressionOptions, testOptions))
	wantIn(t, "nginx.conf", s,
		"\nload_module /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so;\n",
		"\n    gzip on;\n    gzip_comp_level 5;\n    gzip_disable \"msie [1-6]\\.\";\n    gzip_http_version 1.1;\n"+
			"    gzip_min_length 100;\n    gzip_types application/json text/css;\n    gzip_proxied any;\n    gzip_vary on;\n",
		"\n    brotli on;\n    brotli_comp_level 6;\n    brotli_min_length 30;\n    brotli_types *;\n\n",
	)
	wantNotIn(t, "default nginx.conf", renderConf(t, configWith(t, nil, testOptions)), "gzip", "brotli")
	// The Brotli module sends Vary only with gzip_vary, gzip's.
	brotli, _, _ := Render(configWith(t, map[string]string{"enable-brotli": "true"}, testOptions))
	if !strings.Contains(string(brotli), "\n    gzip_vary on;\n") || strings.Contains(string(brotli), "gzip on") {
		t.Error("enable-brotli alone: want gzip_vary on and no gzip on")
	}
	only, _, _ := Render(configWith(t, map[string]string{"use-gzip": "true", "gzip-types": "text/html"}, testOptions))
	if strings.Contains(string(only), "gzip_types") || !strings.Contains(string(only), "\n    gzip on;\n") {
		t.Error("gzip-types text/html alone: want gzip on and no gzip_types (nginx's default is text/html)")
	}
}

// The compression directives pass the real nginx -t with Debian's Brotli
// module loaded.
func TestRenderCompressionPassesNginxTest(t *testing.T) {
	nginxTestConfig(t, "compression", func(o plan.Options) *plan.Plan { return configWith(t, compressionOptions, o) })
}
