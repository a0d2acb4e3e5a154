package annotations

import (
	"regexp"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameRewriteTarget = "rewrite-target"
	nameUseRegex      = "use-regex"
	nameAppRoot       = "app-root"
	nameXFwdPrefix    = "x-forwarded-prefix"
)

// URIPath is an absolute URI path made only of characters that need no
// quoting in nginx.conf: RFC 3986 unreserved and a safe subset of sub-delims.
type URIPath string

// uriPath excludes quotes, ';', '{', '}', '$', '\', '%', whitespace and
// control characters, so a URIPath can never end or extend a directive.
var uriPath = regexp.MustCompile(`^/[A-Za-z0-9\-._~/!&()*+,=:@]*$`)

// rewriteTarget is uriPath plus capture references $1..$9, which nginx's
// rewrite replaces with the groups of the location's regular expression.
var rewriteTarget = regexp.MustCompile(`^/(?:[A-Za-z0-9\-._~/!&()*+,=:@]|\$[1-9])*$`)

// captureRef finds the capture references of a rewrite target.
var captureRef = regexp.MustCompile(`\$([1-9])`)

// maxURIPath bounds URIPath; longer values are refused.
const maxURIPath = 1024

// parseURIPath checks v against the URIPath grammar.
func parseURIPath(v string) (URIPath, bool) {
	if len(v) > maxURIPath || !uriPath.MatchString(v) {
		return "", false
	}
	return URIPath(v), true
}

// Captures returns the highest capture group a rewrite target references,
// 0 when it references none.
func (p URIPath) Captures() int {
	n := 0
	for _, m := range captureRef.FindAllStringSubmatch(string(p), -1) {
		if d := int(m[1][0] - '0'); d > n {
			n = d
		}
	}
	return n
}

// parseRewriteTarget parses rewrite-target: the URI the backend receives
// instead of the request's path (the query string is kept). It may
// reference the path's capture groups as $1..$9: a rewrite-target makes
// the paths of its hosts regular expressions, as use-regex does.
func parseRewriteTarget(a Annotations) (URIPath, []diag.Diagnostic) {
	v, ok := a.lookup(nameRewriteTarget)
	if !ok {
		return "", nil
	}
	if len(v) > maxURIPath || !rewriteTarget.MatchString(v) {
		return "", invalid(nameRewriteTarget, v, "want an absolute path such as / or /app/ made of letters, digits and -._~/!&()*+,=:@")
	}
	return URIPath(v), nil
}

// parseUseRegex parses use-regex: the Ingress's paths are case-insensitive
// regular expressions (nginx "location ~*").
func parseUseRegex(a Annotations) (bool, []diag.Diagnostic) {
	v, _, ds := parseBool(a, nameUseRegex)
	return v, ds
}

// parseAppRoot parses app-root: requests for "/" are redirected (302) there.
func parseAppRoot(a Annotations) (URIPath, []diag.Diagnostic) {
	return parsePathAnnotation(a, nameAppRoot)
}

// parseXForwardedPrefix parses x-forwarded-prefix: the value of the
// X-Forwarded-Prefix header sent to the backend.
func parseXForwardedPrefix(a Annotations) (URIPath, []diag.Diagnostic) {
	return parsePathAnnotation(a, nameXFwdPrefix)
}

func parsePathAnnotation(a Annotations, name string) (URIPath, []diag.Diagnostic) {
	v, ok := a.lookup(name)
	if !ok {
		return "", nil
	}
	p, ok := parseURIPath(v)
	if !ok {
		return "", invalid(name, v, "want an absolute path such as /app made of letters, digits and -._~/!&()*+,=:@")
	}
	return p, nil
}
