package model

import (
	"net"
	"regexp"
	"slices"
	"strings"
)

// The one route matcher: how nginx, and the Lua router that stands in for
// its server blocks (rootfs/etc/nginx/lua/portico/router.lua), pick what
// serves a request. Config.Match applies it to the model's servers,
// plan.Routes.Match to what the router holds (portico diagnose and portico
// conf use both). Both are tested on one table of cases with router.lua
// (testdata/match.json).

// Match returns the server and location nginx picks for a request to host
// and path (MatchHost, then MatchPath). host may carry a port and any
// case; path may carry a query string. Both results are nil only when cfg
// has no catch-all server; the location is nil when no location matches.
func (c *Config) Match(host, path string) (*Server, *Location) {
	host, path = Request(host, path)
	servers := map[string]*Server{}
	for _, s := range c.Servers {
		servers[s.Host] = s
	}
	key, ok := MatchHost(host, func(key string) bool {
		if servers[key] != nil {
			return true
		}
		for _, s := range c.Servers {
			if slices.Contains(s.Aliases, key) {
				servers[key] = s
				return true
			}
		}
		return false
	})
	if !ok {
		return nil, nil
	}
	srv := servers[key]
	i := MatchPath(path, len(srv.Locations), func(i int) (Modifier, string) {
		return srv.Locations[i].Modifier, srv.Locations[i].Path
	})
	if i < 0 {
		return srv, nil
	}
	return srv, srv.Locations[i]
}

// Request normalizes a request's host and path as nginx reads them: the
// host in lower case without its port or a trailing dot, the path
// without its query string, "/" when empty.
func Request(host, path string) (string, string) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = "/"
	}
	return host, path
}

// MatchHost returns the key that serves host (normalized, see Request)
// among those has reports: host itself, else the wildcard one label above
// it ("*.example.com" for a.example.com: a wildcard covers exactly one
// label, as the Ingress API says), else "" (the catch-all server: the
// rules without a host). ok is false when has reports none of them.
func MatchHost(host string, has func(key string) bool) (key string, ok bool) {
	if host != "" && has(host) {
		return host, true
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		if key = "*" + host[i:]; has(key) {
			return key, true
		}
	}
	return "", has("")
}

// MatchPath returns the index of the location nginx picks for path among
// n locations in their order (rule gives each one's modifier and path):
// the exact (=) location equal to path, else the first regular expression
// (~*, case-insensitive) that matches it, else the longest prefix it
// starts with; -1 when none matches. A regular expression that does not
// compile matches nothing (the model only makes ones that do).
func MatchPath(path string, n int, rule func(i int) (Modifier, string)) int {
	prefix, regex, longest := -1, -1, -1
	for i := range n {
		mod, p := rule(i)
		switch mod {
		case ModExact:
			if p == path {
				return i
			}
		case ModRegex:
			if regex < 0 {
				if re, err := regexp.Compile("(?i)" + p); err == nil && re.MatchString(path) {
					regex = i
				}
			}
		default:
			if strings.HasPrefix(path, p) && len(p) > longest {
				prefix, longest = i, len(p)
			}
		}
	}
	if regex >= 0 {
		return regex
	}
	return prefix
}
