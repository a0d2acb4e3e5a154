package annotations

import (
	"slices"
	"strings"
)

const nameOperationName = "opentelemetry-operation-name"

// SpanName is the name of nginx's span (opentelemetry-operation-name):
// literal text and variables of SpanNameVariables ($name or ${name}),
// which portico/tracing.lua fills in when the span ends. Its literal text
// is letters, digits, spaces and spanNameLiteral, so it prints as a Lua
// string in nginx.conf as it is.
type SpanName string

// SpanNameVariables are the variables a span name may use: nginx's own
// and the ingress-nginx location variables Portico's Lua knows.
var SpanNameVariables = []string{"request_method", "uri", "request_uri", "host", "scheme", "server_name", "status",
	"namespace", "ingress_name", "service_name", "location_path"}

// routeLabelSpanVariables are those the Lua router sets per request only
// when asked to (plan.HTTP.LogsRouteLabels).
var routeLabelSpanVariables = []string{"server_name", "namespace", "ingress_name", "location_path"}

// spanNameLiteral are the characters besides letters, digits and spaces
// a span name's literal text may have.
const spanNameLiteral = "-_./:,@+=()[]"

// maxSpanName bounds a span name.
const maxSpanName = 256

// SpanNameGrammar says what ParseSpanName takes.
var SpanNameGrammar = "letters, digits, spaces, `" + spanNameLiteral + "` and the variables `$" +
	strings.Join(SpanNameVariables, "`, `$") + "` (`$name` or `${name}`), at most 256 characters"

// ParseSpanName checks a span name (the annotation's, or the ConfigMap's
// opentelemetry-operation-name); want is "" when it passes. Blank is no
// name: nginx's span keeps Portico's default one.
func ParseSpanName(v string) (n SpanName, want string) {
	if strings.TrimSpace(v) == "" {
		return "", ""
	}
	bad := SpanNameGrammar
	if len(v) > maxSpanName {
		return "", bad
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '$' {
			if !isAlnum(c) && c != ' ' && strings.IndexByte(spanNameLiteral, c) < 0 {
				return "", bad
			}
			continue
		}
		name, end := spanVariable(v[i+1:])
		if !slices.Contains(SpanNameVariables, name) {
			return "", bad
		}
		i += end
	}
	return SpanName(v), ""
}

// spanVariable reads the variable name after a '$' in s, as nginx does
// ("name" greedily, or "{name}"); end is how much of s it takes.
func spanVariable(s string) (name string, end int) {
	if rest, ok := strings.CutPrefix(s, "{"); ok {
		n, _, found := strings.Cut(rest, "}")
		if !found {
			return "", 0
		}
		return n, len(n) + 2
	}
	for end < len(s) && (isAlnum(s[end]) || s[end] == '_') {
		end++
	}
	return s[:end], end
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// RouteLabels reports whether n uses a variable the Lua router sets only
// when asked to.
func (n SpanName) RouteLabels() bool {
	for i := 0; i < len(n); i++ {
		if n[i] == '$' {
			name, end := spanVariable(string(n[i+1:]))
			if slices.Contains(routeLabelSpanVariables, name) {
				return true
			}
			i += end
		}
	}
	return false
}
