package plan

import "github.com/portico-ingress/portico/pkg/model"

// Match returns what the Lua router (portico/router.lua) does with a
// request to host and path: the key of rt.Hosts it uses (host, the
// wildcard one label above it, or "" for the rules without a host), and
// the route, nil when none matches (404). found is false when rt holds
// none of them. It leaves out the host's app-root, which redirects "/"
// first. It matches as model.MatchHost and model.MatchPath do, the
// matcher of nginx's server blocks.
func (rt *Routes) Match(host, path string) (key string, r *Route, found bool) {
	host, path = model.Request(host, path)
	key, found = model.MatchHost(host, func(k string) bool { _, ok := rt.Hosts[k]; return ok })
	if !found {
		return "", nil, false
	}
	rs := rt.Hosts[key].Routes
	i := model.MatchPath(path, len(rs), func(i int) (model.Modifier, string) {
		return rs[i].Modifier(), rs[i].Path
	})
	if i < 0 {
		return key, nil, true
	}
	return key, &rs[i], true
}
