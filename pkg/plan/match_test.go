package plan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Match reads the request as nginx gives it to the router: host in
// lower case without port or trailing dot, path without query.
func TestRoutesMatch(t *testing.T) {
	rt := &Routes{Hosts: map[string]HostRoutes{
		"a.example.com": {Routes: []Route{{Path: "/", Backend: "root"}, {Path: "/aaa/b/", Backend: "aaab"}}},
	}}
	for _, tc := range []struct{ host, path, backend string }{
		{"A.Example.com:8080", "/aaa/b/c?x=1", "aaab"},
		{"a.example.com.", "", "root"},
	} {
		key, r, found := rt.Match(tc.host, tc.path)
		if !found || key != "a.example.com" || r == nil || r.Backend != tc.backend {
			t.Errorf("Match(%q, %q) = %q, %+v, %v; want a.example.com, %q", tc.host, tc.path, key, r, found, tc.backend)
		}
	}
	if _, _, found := (&Routes{}).Match("a", "/"); found {
		t.Error("an empty table found a route")
	}
}

// Match matches the shared table of cases (pkg/model/testdata), which
// router.lua is tested on too.
func TestRoutesMatchTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "model", "testdata", "match.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mc struct {
		Hosts map[string]HostRoutes `json:"hosts"`
		Cases []struct {
			Host, Path, Key string
			Route           int
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &mc); err != nil {
		t.Fatal(err)
	}
	rt := &Routes{Hosts: mc.Hosts}
	for _, c := range mc.Cases {
		key, r, found := rt.Match(c.Host, c.Path)
		got := -1
		for i := range rt.Hosts[key].Routes {
			if r == &rt.Hosts[key].Routes[i] {
				got = i
			}
		}
		if !found || key != c.Key || got != c.Route {
			t.Errorf("Match(%q, %q) = %q, route %d, %v; want %q, %d", c.Host, c.Path, key, got, found, c.Key, c.Route)
		}
	}
}
