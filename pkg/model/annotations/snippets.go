package annotations

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/nginxconf"
)

const (
	nameConfigurationSnippet = "configuration-snippet"
	nameServerSnippet        = "server-snippet"
	nameStreamSnippet        = "stream-snippet"
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
	if !ok {
		return "", nil
	}
	sn, want := ParseSnippet(v)
	if want != "" {
		return "", invalid(name, v, "want "+want)
	}
	return sn, nil
}

// ParseSnippet checks a snippet (an annotation's, or the ConfigMap's
// global-auth-snippet); want is "" when it passes. Blank is no snippet.
func ParseSnippet(v string) (sn Snippet, want string) {
	if strings.TrimSpace(v) == "" {
		return "", ""
	}
	const wantSnippet = "complete nginx directives that stay in their block, no NUL byte, at most 64 KiB"
	if len(v) > maxSnippet || strings.IndexByte(v, 0) >= 0 {
		return "", wantSnippet
	}
	if _, err := nginxconf.ParseSnippet(v); err != nil {
		return "", wantSnippet + " (" + err.Error() + ")"
	}
	return Snippet(v), ""
}

// isSnippet reports whether annotation name (without Prefix) is a
// snippet: raw nginx configuration.
func isSnippet(name string) bool {
	e, ok := byName[name]
	return ok && e.Section == SectionSnippets
}

// WithoutSnippets returns a without its snippet annotations (a itself
// when it has none): what ingress-nginx serves of an Ingress whose
// snippets the operator has not allowed.
func WithoutSnippets(a Annotations) Annotations {
	var out Annotations
	for k := range a {
		if n, ok := strings.CutPrefix(k, Prefix); ok && isSnippet(n) {
			if out == nil {
				out = make(Annotations, len(a))
				for k, v := range a {
					out[k] = v
				}
			}
			delete(out, k)
		}
	}
	if out == nil {
		return a
	}
	return out
}
