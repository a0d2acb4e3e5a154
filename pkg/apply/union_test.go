package apply

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Before a reload both configs serve: hosts of either must be routed.
func TestUnionRoutes(t *testing.T) {
	old := []byte(`{"hsts":"","hosts":{"a":{"routes":[{"path":"/","backend":"ns/old:80"}]},"b":{"routes":[{"path":"/"}]}}}`)
	next := []byte(`{"hsts":"max-age=1","hosts":{"a":{"routes":[{"path":"/","backend":"ns/new:80"}]},"c":{"routes":[{"path":"/"}]}}}`)
	got, err := unionRoutes(old, next)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hsts":"max-age=1","hosts":{"a":{"routes":[{"path":"/","backend":"ns/new:80"}]},"b":{"routes":[{"path":"/"}]},"c":{"routes":[{"path":"/"}]}}}`
	if string(got) != want {
		t.Errorf("union:\n got %s\nwant %s", got, want)
	}
	if got, _ := unionRoutes(nil, next); string(got) != string(next) {
		t.Errorf("nothing pushed yet: got %s, want next", got)
	}
}

// encode's bodies are the documents Backends and Routes encode to (made
// from the per-item JSON of patches), with no null endpoint list.
func TestEncodeBodiesMatchTheWireTypes(t *testing.T) {
	d := Dynamic{
		Backends: []Backend{{Name: "ns/b:80", LoadBalance: "ewma", Endpoints: []Endpoint{{Address: "198.18.0.1", Port: 80}}},
			{Name: "ns/a:80", NoEndpoints: "service ns/a has no endpoints"}},
		Routes: Routes{HSTS: "max-age=60", Hosts: map[string]HostRoutes{
			"b.example.com": {Routes: []Route{{Path: "/", Backend: "ns/b:80"}}},
			"":              {Routes: []Route{{Path: "/"}}},
			"a.example.com": {HSTS: true, Routes: []Route{{Regex: true, Path: "^/x(.*)", Backend: "ns/a:80", RewriteTarget: "/$1"}}},
		}},
	}
	bodies, items, err := d.encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	wantB, _ := json.Marshal(Backends{Backends: nonNil(slices.Clone(d.Backends))})
	wantR, _ := json.Marshal(d.Routes)
	if string(bodies[backendsPath]) != string(wantB) {
		t.Errorf("backends body\n got %s\nwant %s", bodies[backendsPath], wantB)
	}
	if string(bodies[routesPath]) != string(wantR) {
		t.Errorf("routes body\n got %s\nwant %s", bodies[routesPath], wantR)
	}
	if got := string(items[backendsPath]["ns/a:80"]); !strings.Contains(got, `"endpoints":[]`) {
		t.Errorf("item of a backend without endpoints: %s (Lua reads null as a value)", got)
	}
	if len(items[routesPath]) != 3 || len(items[backendsPath]) != 2 {
		t.Errorf("items: %d routes, %d backends", len(items[routesPath]), len(items[backendsPath]))
	}
	// Each item is its wire type's own encoding (a slice of the body).
	for h, r := range d.Routes.Hosts {
		if want, _ := json.Marshal(r); string(items[routesPath][h]) != string(want) {
			t.Errorf("item of host %q\n got %s\nwant %s", h, items[routesPath][h], want)
		}
	}
	for _, b := range nonNil(slices.Clone(d.Backends)) {
		if want, _ := json.Marshal(b); string(items[backendsPath][b.Name]) != string(want) {
			t.Errorf("item of backend %s\n got %s\nwant %s", b.Name, items[backendsPath][b.Name], want)
		}
	}
}

// The union made from the kept items holds what the union of the decoded
// bodies holds: the desired items, and the pushed ones they lack.
func TestUnionFromItems(t *testing.T) {
	pushed := Dynamic{
		Backends: []Backend{{Name: "ns/a:80", Endpoints: []Endpoint{{Address: "198.18.0.1", Port: 80}}}, {Name: "ns/old:80"}},
		Routes: Routes{HSTS: "", Hosts: map[string]HostRoutes{
			"a.example.com":   {Routes: []Route{{Path: "/", Backend: "ns/a:80"}}},
			"old.example.com": {Routes: []Route{{Path: "/", Backend: "ns/old:80"}}},
		}},
	}
	desired := Dynamic{
		Backends: []Backend{{Name: "ns/a:80", Endpoints: []Endpoint{{Address: "198.18.0.2", Port: 80}}}, {Name: "ns/new:80"}},
		Routes: Routes{HSTS: "max-age=1", Hosts: map[string]HostRoutes{
			"a.example.com":   {Routes: []Route{{Path: "/x", Backend: "ns/a:80"}}},
			"new.example.com": {Routes: []Route{{Path: "/", Backend: "ns/new:80"}}},
		}},
	}
	a := &Applier{}
	var pushedItems map[string]map[string]json.RawMessage
	a.pushed, pushedItems, _ = pushed.encode(nil)
	a.desired, a.desiredItems, _ = desired.encode(nil)
	a.hsts = desired.Routes.HSTS
	for _, items := range []map[string]map[string]json.RawMessage{nil, pushedItems} {
		a.pushedItems = items // nil: nginx holds a body of other items
		b, err := a.union(backendsPath, nonNil(slices.Clone(desired.Backends)))
		if err != nil {
			t.Fatal(err)
		}
		var bs Backends
		if err := json.Unmarshal(b, &bs); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		got := map[string]string{}
		for _, x := range bs.Backends {
			got[x.Name] = fmt.Sprint(x.Endpoints)
		}
		want := map[string]string{"ns/a:80": "[{198.18.0.2 80}]", "ns/new:80": "[]", "ns/old:80": "[]"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("items %v: backends union %v, want %v", items != nil, got, want)
		}
		r, err := a.union(routesPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rs Routes
		if err := json.Unmarshal(r, &rs); err != nil {
			t.Fatalf("%v: %s", err, r)
		}
		if rs.HSTS != "max-age=1" || len(rs.Hosts) != 3 || rs.Hosts["a.example.com"].Routes[0].Path != "/x" ||
			rs.Hosts["old.example.com"].Routes == nil || rs.Hosts["new.example.com"].Routes == nil {
			t.Errorf("items %v: routes union %s", items != nil, r)
		}
	}
}
