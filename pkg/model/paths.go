package model

import (
	"fmt"
	"regexp"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// pathChars is the grammar of an Ingress path Portico accepts: absolute,
// made of RFC 3986 path characters minus those that need quoting in
// nginx.conf (quotes, ';', '$', '{', '}', '\', whitespace, controls) and
// '%' (nginx matches decoded URIs, so an encoded path would never match).
var pathChars = regexp.MustCompile(`^/[A-Za-z0-9\-._~/!&()*+,=:@]*$`)

const maxPath = 2048

// IngressPathOf is the path and pathType of an Ingress path as Portico
// reads them: an empty path is "/", an unset pathType
// ImplementationSpecific.
func IngressPathOf(p networkingv1.HTTPIngressPath) (string, networkingv1.PathType) {
	pt := networkingv1.PathTypeImplementationSpecific
	if p.PathType != nil {
		pt = *p.PathType
	}
	if p.Path == "" {
		return "/", pt
	}
	return p.Path, pt
}

// match is one nginx location a path becomes.
type match struct {
	mod  Modifier
	path string
}

// pathMatches validates an Ingress path and returns the nginx locations
// that implement its pathType.
//
//   - Exact "/p": "= /p".
//   - Prefix "/p" (trailing slash ignored): "= /p" and "/p/", so "/p"
//     matches /p, /p/ and /p/x but never /px (element-wise, as the API
//     requires); Prefix "/" is "/".
//   - ImplementationSpecific "/p": "/p", nginx's own prefix match.
func pathMatches(path string, pt networkingv1.PathType) ([]match, error) {
	if len(path) > maxPath {
		return nil, fmt.Errorf("path is longer than %d characters", maxPath)
	}
	if !pathChars.MatchString(path) {
		return nil, fmt.Errorf("path %q must start with / and contain only letters, digits and -._~/!&()*+,=:@", truncate(path))
	}
	if strings.Contains(path, "//") || hasDotSegment(path) {
		return nil, fmt.Errorf("path %q must not contain empty, '.' or '..' segments", truncate(path))
	}
	switch pt {
	case networkingv1.PathTypeExact:
		return []match{{ModExact, path}}, nil
	case networkingv1.PathTypePrefix:
		p := strings.TrimRight(path, "/")
		if p == "" {
			return []match{{ModPrefix, "/"}}, nil
		}
		return []match{{ModExact, p}, {ModPrefix, p + "/"}}, nil
	case networkingv1.PathTypeImplementationSpecific:
		return []match{{ModPrefix, path}}, nil
	}
	return nil, fmt.Errorf("pathType %q is not Exact, Prefix or ImplementationSpecific", pt)
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
