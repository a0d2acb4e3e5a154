package diagnose

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/apply"
)

// FetchRoutes reads GET /configuration/routes from nginx's status port:
// the hosts the Lua router serves.
func FetchRoutes(ctx context.Context, base string) (*apply.Routes, error) {
	b, err := Get(ctx, base, "/configuration/routes")
	if err != nil {
		return nil, err
	}
	var r apply.Routes
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("/configuration/routes: %w", err)
	}
	return &r, nil
}

// LuaRoute returns what the Lua router (portico/router.lua) does with a
// request to host and path: the table key it uses (host, the wildcard one
// label above it, or "" for the rules without a host), and the route, nil
// when none matches (404). found is false when the table holds none of
// them. It leaves out the host's app-root, which redirects "/" first.
func LuaRoute(rt *apply.Routes, host, path string) (key string, r *apply.Route, found bool) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = "/"
	}
	key = host
	hr, ok := rt.Hosts[key]
	if i := strings.IndexByte(host, '.'); !ok && i > 0 {
		key = "*" + host[i:]
		hr, ok = rt.Hosts[key]
	}
	if !ok {
		key = ""
		if hr, ok = rt.Hosts[key]; !ok {
			return "", nil, false
		}
	}
	var best, regex *apply.Route
	for i := range hr.Routes {
		c := &hr.Routes[i]
		switch {
		case c.Exact:
			if c.Path == path {
				return key, c, true
			}
		case c.Regex:
			// Route paths are the model's: RE2 syntax, as Lua's PCRE reads it.
			if regex == nil {
				if re, err := regexp.Compile("(?i)" + c.Path); err == nil && re.MatchString(path) {
					regex = c
				}
			}
		case strings.HasPrefix(path, c.Path) && (best == nil || len(c.Path) > len(best.Path)):
			best = c
		}
	}
	if regex != nil {
		return key, regex, true
	}
	return key, best, true
}
