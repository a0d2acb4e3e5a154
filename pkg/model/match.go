package model

import (
	"net"
	"slices"
	"strings"
)

// Match returns the server and location nginx picks for a request to host
// and path, as the rendered nginx.conf routes it:
//
//   - server: the exact host name (or one of its server-alias names),
//     else the wildcard "*.rest" whose "*"
//     covers exactly one label, else the catch-all server;
//   - location: an Exact (=) location equal to the path, else the longest
//     prefix location.
//
// host may carry a port and any case; path may carry a query string. Both
// results are nil only when cfg has no catch-all server.
func (c *Config) Match(host, path string) (*Server, *Location) {
	host = strings.ToLower(strings.TrimSuffix(stripPort(host), "."))
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = "/"
	}
	var exact, wild, catchAll *Server
	for _, s := range c.Servers {
		switch {
		case s.Host == "":
			catchAll = s
		case s.Host == host || slices.Contains(s.Aliases, host):
			exact = s
		case strings.HasPrefix(s.Host, "*."):
			label, rest, ok := strings.Cut(host, ".")
			if ok && label != "" && rest == s.Host[2:] {
				wild = s
			}
		}
	}
	srv := exact
	if srv == nil {
		srv = wild
	}
	if srv == nil {
		srv = catchAll
	}
	if srv == nil {
		return nil, nil
	}
	return srv, srv.matchLocation(path)
}

func (s *Server) matchLocation(path string) *Location {
	var best *Location
	for _, l := range s.Locations {
		switch l.Modifier {
		case ModExact:
			if l.Path == path {
				return l
			}
		case ModPrefix:
			if strings.HasPrefix(path, l.Path) && (best == nil || len(l.Path) > len(best.Path)) {
				best = l
			}
		}
	}
	return best
}

func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}
