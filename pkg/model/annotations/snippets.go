package annotations

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameConfigurationSnippet = "configuration-snippet"
	nameServerSnippet        = "server-snippet"
)

// maxSnippet bounds a snippet's size.
const maxSnippet = 64 << 10

// Snippet is raw nginx configuration an operator allowed (ConfigMap
// allow-snippet-annotations). It is checked only for NUL bytes and
// balanced braces outside quotes and comments, so it cannot close the
// block it is inserted in.
type Snippet string

func parseSnippet(a Annotations, name string) (Snippet, []diag.Diagnostic) {
	v, ok := a.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", nil
	}
	t := strings.TrimSpace(v)
	if len(v) > maxSnippet || strings.IndexByte(v, 0) >= 0 || !balanced(v) || !strings.HasSuffix(t, ";") && !strings.HasSuffix(t, "}") {
		return "", invalid(name, v, "want complete nginx directives (ending in ; or }) with balanced braces and quotes, no NUL byte, at most 64 KiB")
	}
	return Snippet(v), nil
}

// balanced reports whether braces balance and quotes close, skipping
// quoted strings, escapes and comments as nginx's tokenizer does.
func balanced(s string) bool {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0 && quote == 0
}
