package model

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/nginxconf"
)

// ConfigSnippets are the operator's own nginx configuration from the
// ConfigMap, as ingress-nginx's main-snippet, http-snippet,
// server-snippet, location-snippet and stream-snippet: printed in nginx's
// main context, the http block, every server block (the catch-all
// server's too, which serves the routed hosts), every location (the
// router's too) and the stream block. They
// are not gated by allow-snippet-annotations, as in ingress-nginx: the
// ConfigMap is the operator's. nginx's tokenizer checks each here, and
// nginx -t before nginx runs it: a snippet nginx refuses is held at its
// last good value (the controller's held keys), the rest applied.
type ConfigSnippets struct {
	Main     string `json:"main,omitempty"`
	HTTP     string `json:"http,omitempty"`
	Server   string `json:"server,omitempty"`
	Location string `json:"location,omitempty"`
	Stream   string `json:"stream,omitempty"`
}

// SnippetKeys are the ConfigMap keys of ConfigSnippets.
var SnippetKeys = []string{"main-snippet", "http-snippet", "server-snippet", "location-snippet", "stream-snippet"}

// maxConfigSnippet bounds a ConfigMap snippet's size.
const maxConfigSnippet = 64 << 10

func snippetOption(field func(b *globalBuild) *string) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		const want = "complete nginx directives that stay in their block, no NUL byte, at most 64 KiB"
		if strings.TrimSpace(v) == "" {
			*field(b) = ""
			return ""
		}
		if len(v) > maxConfigSnippet || strings.IndexByte(v, 0) >= 0 {
			return want
		}
		if _, err := nginxconf.ParseSnippet(v); err != nil {
			return want + " (" + err.Error() + ")"
		}
		*field(b) = v
		return ""
	}
}
