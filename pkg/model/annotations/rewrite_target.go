package annotations

import (
	"regexp"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const nameRewriteTarget = "rewrite-target"

// URIPath is an absolute URI path made only of characters that need no
// quoting in nginx.conf: RFC 3986 unreserved and a safe subset of sub-delims.
type URIPath string

// uriPath excludes quotes, ';', '{', '}', '$', '\', '%', whitespace and
// control characters, so a URIPath can never end or extend a directive.
var uriPath = regexp.MustCompile(`^/[A-Za-z0-9\-._~/!&()*+,=:@]*$`)

// maxURIPath bounds URIPath; longer values are refused.
const maxURIPath = 1024

// parseURIPath checks v against the URIPath grammar.
func parseURIPath(v string) (URIPath, bool) {
	if len(v) > maxURIPath || !uriPath.MatchString(v) {
		return "", false
	}
	return URIPath(v), true
}

// parseRewriteTarget parses rewrite-target: the URI the backend receives
// instead of the request's path (the query string is kept).
func parseRewriteTarget(a Annotations) (URIPath, []diag.Diagnostic) {
	v, ok := a.lookup(nameRewriteTarget)
	if !ok {
		return "", nil
	}
	p, ok := parseURIPath(v)
	if !ok {
		return "", invalid(nameRewriteTarget, v, "want an absolute path such as / or /app/ made of letters, digits and -._~/!&()*+,=:@")
	}
	return p, nil
}
