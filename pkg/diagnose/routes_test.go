package diagnose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-ingress/portico/pkg/plan"
)

// LuaRoute reads the request as nginx gives it to the router: host in
// lower case without port or trailing dot, path without query.
func TestLuaRoute(t *testing.T) {
	rt := &plan.Routes{Hosts: map[string]plan.HostRoutes{
		"a.example.com": {Routes: []plan.Route{{Path: "/", Backend: "root"}, {Path: "/aaa/b/", Backend: "aaab"}}},
	}}
	for _, tc := range []struct{ host, path, backend string }{
		{"A.Example.com:8080", "/aaa/b/c?x=1", "aaab"},
		{"a.example.com.", "", "root"},
	} {
		key, r, found := LuaRoute(rt, tc.host, tc.path)
		if !found || key != "a.example.com" || r == nil || r.Backend != tc.backend {
			t.Errorf("LuaRoute(%q, %q) = %q, %+v, %v; want a.example.com, %q", tc.host, tc.path, key, r, found, tc.backend)
		}
	}
	if _, _, found := LuaRoute(&plan.Routes{}, "a", "/"); found {
		t.Error("an empty table found a route")
	}
}

// LuaRoute matches the shared table of cases (pkg/model/testdata), which
// router.lua is tested on too.
func TestLuaRouteTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "model", "testdata", "match.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mc struct {
		Hosts map[string]plan.HostRoutes `json:"hosts"`
		Cases []struct {
			Host, Path, Key string
			Route           int
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &mc); err != nil {
		t.Fatal(err)
	}
	rt := &plan.Routes{Hosts: mc.Hosts}
	for _, c := range mc.Cases {
		key, r, found := LuaRoute(rt, c.Host, c.Path)
		got := -1
		for i := range rt.Hosts[key].Routes {
			if r == &rt.Hosts[key].Routes[i] {
				got = i
			}
		}
		if !found || key != c.Key || got != c.Route {
			t.Errorf("LuaRoute(%q, %q) = %q, route %d, %v; want %q, %d", c.Host, c.Path, key, got, found, c.Key, c.Route)
		}
	}
}
