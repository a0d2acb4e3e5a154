package annotations

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/nginxconf"
)

const (
	nameConfigurationSnippet = "configuration-snippet"
	nameServerSnippet        = "server-snippet"
)

// maxSnippet bounds a snippet's size.
const maxSnippet = 64 << 10

// Snippet is raw nginx configuration an operator allowed (ConfigMap
// allow-snippet-annotations). nginx's own tokenizer (nginxconf) must read
// it as whole directives that stay in the block it is printed in: no '}'
// that closes that block, no block, quote or Lua block left open, no
// directive without its ';'. No NUL byte.
type Snippet string

func parseSnippet(a Annotations, name string) (Snippet, []diag.Diagnostic) {
	v, ok := a.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", nil
	}
	const want = "want complete nginx directives that stay in their block, no NUL byte, at most 64 KiB"
	if len(v) > maxSnippet || strings.IndexByte(v, 0) >= 0 {
		return "", invalid(name, v, want)
	}
	if _, err := nginxconf.ParseSnippet(v); err != nil {
		return "", invalid(name, v, want+" ("+err.Error()+")")
	}
	return Snippet(v), nil
}
