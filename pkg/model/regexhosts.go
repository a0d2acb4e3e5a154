package model

import (
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Regex hosts, as ingress-nginx makes them: once one Ingress of a host
// reads a path as a regular expression (use-regex, or a rewrite-target
// other than the path), every path of the host, of every Ingress, is a
// case-insensitive regular expression anchored at the start only
// ("location ~* ^<path>"), tried in ingress-nginx's order: longest path
// first. A Prefix (or ImplementationSpecific, which ingress-nginx reads
// as Prefix) path of an Ingress without regex becomes two: <path>/ then
// <path> (so "/foo" matches "/foobar" there, the warning of
// ingress-nginx's path matching docs); an Exact one matches what starts
// with it.

// claim is one path of an Ingress on one host, before placeClaims gives
// the host's paths their locations.
type claim struct {
	obj  diag.Object
	path string
	// useRegex and rewrite are the Ingress's use-regex and
	// rewrite-target.
	useRegex bool
	rewrite  annotations.URIPath
	// matches are the locations of a plain path (pathMatches); nil for a
	// path validated as a regular expression.
	matches []match
	// route is the location the path gets, but for its Modifier and
	// Path.
	route route
}

// rewrites reports whether a location of path rewrites the URI: the
// Ingress has a rewrite-target other than the path.
func (c *claim) rewrites(path string) bool {
	return c.rewrite != "" && string(c.rewrite) != path
}

// regex reports whether the claim's Ingress reads its path as a regular
// expression.
func (c *claim) regex() bool { return c.useRegex || c.rewrites(c.path) }

// exact reports whether the claim's path is Exact; ingress-nginx reads
// every other pathType as Prefix.
func (c *claim) exact() bool { return c.route.pathType == networkingv1.PathTypeExact }

// placeClaims gives the paths of each host their locations: regular
// expressions in ingress-nginx's order when one of them is one
// (placeRegex), else the locations of their pathTypes (placePlain).
func (b *builder) placeClaims() {
	for _, s := range b.servers {
		kept, lost := dedupe(s.claims)
		if !regexHost(kept) {
			for _, c := range s.claims {
				b.placePlain(s, c)
			}
			continue
		}
		s.regex = true
		for _, l := range lost {
			b.diag(l.obj, diag.Warnf(l.route.field, "PathConflict",
				"%s path %s on host %q is already served by Ingress %s, which is older; this path is not served",
				l.route.pathType, l.path, s.host, l.winner.route.loc.Ingress))
		}
		valid := kept[:0]
		for _, c := range kept {
			if c.matches == nil {
				valid = append(valid, c) // validated as a regex already
				continue
			}
			if _, err := annotations.ParseRegexPath(c.path); err != nil {
				b.diag(c.obj, diag.Errorf(c.route.field, "InvalidPath",
					"the paths of host %q are regular expressions (an Ingress of the host sets use-regex or rewrite-target), and %v; the path is not served", s.host, err))
				continue
			}
			valid = append(valid, c)
		}
		s.ordered = regexRoutes(valid, s.fallbackRoute(b))
	}
}

// lostClaim is a claim that an older one of the same path and pathType
// took first.
type lostClaim struct {
	*claim
	winner *claim
}

// dedupe keeps the first claim of each path and pathType (Exact, or the
// rest, which ingress-nginx reads as Prefix), in claim order (oldest
// Ingress first), as ingress-nginx merges a host's Ingresses.
func dedupe(cs []*claim) (kept []*claim, lost []lostClaim) {
	type key struct {
		path  string
		exact bool
	}
	first := make(map[key]*claim, len(cs))
	for _, c := range cs {
		k := key{c.path, c.exact()}
		if w := first[k]; w != nil {
			lost = append(lost, lostClaim{c, w})
			continue
		}
		first[k] = c
		kept = append(kept, c)
	}
	return kept, lost
}

// regexHost reports whether a host's paths (kept by dedupe) are regular
// expressions: one of them is, or one of the locations ingress-nginx
// makes of them rewrites the URI.
func regexHost(kept []*claim) bool {
	for _, c := range kept {
		if c.regex() || (c.rewrite != "" && !c.exact() && c.path != "/" && c.rewrites(slashed(c.path))) {
			return true
		}
	}
	return false
}

// slashed is path with a trailing slash.
func slashed(path string) string {
	if strings.HasSuffix(path, "/") {
		return path
	}
	return path + "/"
}

// fallbackRoute is the route of "/" that serves what no path of the host
// matches: the host's default backend, the controller's, or 404.
func (s *serverBuild) fallbackRoute(b *builder) *route {
	fb := s.fallback
	if fb == "" {
		fb = b.fallback
	}
	return &route{pathType: networkingv1.PathTypePrefix, loc: Location{Modifier: ModPrefix, Path: "/", Backend: fb}}
}

// regexRoutes are the locations ingress-nginx makes of a regex host's
// claims, in the order nginx tries them: the host's "/" first (a Prefix
// claim of "/", else root), then the claims; stably sorted by path,
// descending, then by length, longest first; then each Prefix path of an
// Ingress without regex is <path>/ followed by <path> (the latter left
// out when an Exact claim has the same path), each anchored at the
// start, case-insensitive.
func regexRoutes(kept []*claim, root *route) []*route {
	type loc struct {
		c    *claim
		path string
	}
	rootClaim := &claim{path: "/", route: *root}
	all := make([]*claim, 0, len(kept)+1)
	all = append(all, rootClaim)
	exact := map[string]bool{}
	for _, c := range kept {
		switch {
		case c.path == "/" && !c.exact():
			all[0] = c // it takes the place of root
		default:
			all = append(all, c)
		}
		if c.exact() {
			exact[c.path] = true
		}
	}
	slices.SortStableFunc(all, func(x, y *claim) int { return strings.Compare(y.path, x.path) })
	slices.SortStableFunc(all, func(x, y *claim) int { return len(y.path) - len(x.path) })
	locs := make([]loc, 0, len(all)+len(all)/2)
	for _, c := range all {
		if c.path == "/" || c.exact() || c.regex() {
			locs = append(locs, loc{c, c.path})
			continue
		}
		locs = append(locs, loc{c, slashed(c.path)})
		if !exact[c.path] {
			locs = append(locs, loc{c, c.path})
		}
	}
	out := make([]*route, 0, len(locs))
	for _, l := range locs {
		r := l.c.route // a copy per location
		r.loc.Modifier, r.loc.Path = ModRegex, "^"+l.path
		if l.c.rewrites(l.path) {
			r.loc.RewriteTarget = l.c.rewrite
		}
		out = append(out, &r)
	}
	return out
}

// regexRoutesOf are the routes of a regex host that a canary path
// attaches to, as in ingress-nginx: those of the same path and pathType
// (Exact, or the rest).
func (s *serverBuild) regexRoutesOf(path string, pt networkingv1.PathType) []*route {
	var out []*route
	exact := pt == networkingv1.PathTypeExact
	for _, r := range s.ordered {
		if r.path == path && (r.pathType == networkingv1.PathTypeExact) == exact {
			out = append(out, r)
		}
	}
	return out
}
