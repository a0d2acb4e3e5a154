package diagnose

import (
	"testing"

	"github.com/portico-ingress/portico/pkg/apply"
)

// LuaRoute must answer as portico/router.lua does.
func TestLuaRoute(t *testing.T) {
	rt := &apply.Routes{Hosts: map[string]apply.HostRoutes{
		"":                    {Routes: []apply.Route{{Path: "/"}, {Exact: true, Path: "/lobby", Backend: "lobby"}}},
		"*.w.example.com":     {Routes: []apply.Route{{Path: "/", Backend: "wild"}}},
		"named.w.example.com": {Routes: []apply.Route{{Path: "/x", Backend: "named"}}},
		"a.example.com": {Routes: []apply.Route{
			{Path: "/", Backend: "root"}, {Exact: true, Path: "/aaa", Backend: "aaa"}, {Path: "/aaa/", Backend: "aaa"}, {Path: "/aaa/b/", Backend: "aaab"},
			{Exact: true, Path: "/re/exact", Backend: "exact"}, {Path: "/re/deep/", Backend: "deep"},
			{Regex: true, Path: "^/re(/|$)(.*)", Backend: "re"}, {Regex: true, Path: "^/re/deep", Backend: "second"},
		}},
	}}
	tests := []struct{ host, path, key, backend string }{
		{"a.example.com", "/aaa", "a.example.com", "aaa"},
		{"A.Example.com:8080", "/aaa/b/c?x=1", "a.example.com", "aaab"},
		{"a.example.com.", "/aaab", "a.example.com", "root"},
		{"a.example.com", "/lobby", "a.example.com", "root"},
		{"b.example.com", "/lobby", "", "lobby"},
		{"b.example.com", "/lobby/x", "", ""},
		{"a.example.com", "/re/exact", "a.example.com", "exact"},
		{"a.example.com", "/RE/deep/x", "a.example.com", "re"}, // the first regex, before a longer prefix
		{"a.example.com", "/ref", "a.example.com", "root"},
		// A wildcard covers one label, after the exact host.
		{"one.w.example.com", "/lobby", "*.w.example.com", "wild"},
		{"named.w.example.com", "/y", "named.w.example.com", ""},
		{"two.one.w.example.com", "/lobby", "", "lobby"},
		{"w.example.com", "/lobby", "", "lobby"},
		{".one.w.example.com", "/lobby", "", "lobby"},
	}
	for _, tc := range tests {
		key, r, found := LuaRoute(rt, tc.host, tc.path)
		be := ""
		if r != nil {
			be = r.Backend
		}
		if !found || key != tc.key || be != tc.backend {
			t.Errorf("LuaRoute(%q, %q) = %q, %q, %v; want %q, %q", tc.host, tc.path, key, be, found, tc.key, tc.backend)
		}
	}
	if _, _, found := LuaRoute(&apply.Routes{}, "a", "/"); found {
		t.Error("an empty table found a route")
	}
}
