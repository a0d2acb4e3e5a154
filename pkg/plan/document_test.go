package plan

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
	next := Lua{Routes: Routes{HSTS: "max-age=1", Hosts: map[string]HostRoutes{
		"a": {Routes: []Route{{Path: "/", Backend: "ns/new:80"}}}, "c": {Routes: []Route{{Path: "/"}}}}}}
	docs, err := next.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := docs.Routes.Union(old, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hsts":"max-age=1","hosts":{"a":{"routes":[{"path":"/","backend":"ns/new:80"}]},"b":{"routes":[{"path":"/"}]},"c":{"routes":[{"path":"/"}]}}}`
	if string(got) != want {
		t.Errorf("union:\n got %s\nwant %s", got, want)
	}
	if got, _ := docs.Routes.Union(nil, nil); string(got) != string(docs.Routes.Body) {
		t.Errorf("nothing pushed yet: got %s, want next", got)
	}
}

// Encode's bodies are the documents Backends and Routes encode to (made
// from the per-item JSON of patches), with no null endpoint list.
func TestEncodeBodiesMatchTheWireTypes(t *testing.T) {
	l := Lua{
		Backends: []Backend{{Name: "ns/b:80", LoadBalance: "ewma", Endpoints: []Endpoint{{Address: "198.18.0.1", Port: 80}}},
			{Name: "ns/a:80", NoEndpoints: "service ns/a has no endpoints"}},
		Routes: Routes{HSTS: "max-age=60", Hosts: map[string]HostRoutes{
			"b.example.com": {Routes: []Route{{Path: "/", Backend: "ns/b:80"}}},
			"":              {Routes: []Route{{Path: "/"}}},
			"a.example.com": {HSTS: true, Routes: []Route{{Regex: true, Path: "^/x(.*)", Backend: "ns/a:80", RewriteTarget: "/$1"}}},
		}},
	}
	docs, err := l.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	wantB, _ := json.Marshal(Backends{Backends: nonNil(slices.Clone(l.Backends))})
	wantR, _ := json.Marshal(l.Routes)
	if string(docs.Backends.Body) != string(wantB) {
		t.Errorf("backends body\n got %s\nwant %s", docs.Backends.Body, wantB)
	}
	if string(docs.Routes.Body) != string(wantR) {
		t.Errorf("routes body\n got %s\nwant %s", docs.Routes.Body, wantR)
	}
	if got := string(docs.Backends.Items["ns/a:80"]); !strings.Contains(got, `"endpoints":[]`) {
		t.Errorf("item of a backend without endpoints: %s (Lua reads null as a value)", got)
	}
	if len(docs.Routes.Items) != 3 || len(docs.Backends.Items) != 2 || docs.Certificates.Items != nil {
		t.Errorf("items: %d routes, %d backends, %d certificates", len(docs.Routes.Items), len(docs.Backends.Items), len(docs.Certificates.Items))
	}
	// Each item is its wire type's own encoding (a slice of the body).
	for h, r := range l.Routes.Hosts {
		if want, _ := json.Marshal(r); string(docs.Routes.Items[h]) != string(want) {
			t.Errorf("item of host %q\n got %s\nwant %s", h, docs.Routes.Items[h], want)
		}
	}
	for _, b := range nonNil(slices.Clone(l.Backends)) {
		if want, _ := json.Marshal(b); string(docs.Backends.Items[b.Name]) != string(want) {
			t.Errorf("item of backend %s\n got %s\nwant %s", b.Name, docs.Backends.Items[b.Name], want)
		}
	}
}

// The union made from the kept items holds what the union made from the
// pushed body holds: the desired items, and the pushed ones they lack.
func TestUnionFromItems(t *testing.T) {
	pushed := Lua{
		Backends: []Backend{{Name: "ns/a:80", Endpoints: []Endpoint{{Address: "198.18.0.1", Port: 80}}}, {Name: "ns/old:80"}},
		Routes: Routes{HSTS: "", Hosts: map[string]HostRoutes{
			"a.example.com":   {Routes: []Route{{Path: "/", Backend: "ns/a:80"}}},
			"old.example.com": {Routes: []Route{{Path: "/", Backend: "ns/old:80"}}},
		}},
	}
	desired := Lua{
		Backends: []Backend{{Name: "ns/a:80", Endpoints: []Endpoint{{Address: "198.18.0.2", Port: 80}}}, {Name: "ns/new:80"}},
		Routes: Routes{HSTS: "max-age=1", Hosts: map[string]HostRoutes{
			"a.example.com":   {Routes: []Route{{Path: "/x", Backend: "ns/a:80"}}},
			"new.example.com": {Routes: []Route{{Path: "/", Backend: "ns/new:80"}}},
		}},
	}
	old, _ := pushed.Encode(nil)
	next, _ := desired.Encode(nil)
	for _, items := range []bool{false, true} {
		oldItems := func(d *Document) map[string]json.RawMessage {
			if items {
				return d.Items
			}
			return nil // nginx holds a body of other items: read from the body
		}
		b, err := next.Backends.Union(old.Backends.Body, oldItems(old.Backends))
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
			t.Errorf("items %v: backends union %v, want %v", items, got, want)
		}
		r, err := next.Routes.Union(old.Routes.Body, oldItems(old.Routes))
		if err != nil {
			t.Fatal(err)
		}
		var rs Routes
		if err := json.Unmarshal(r, &rs); err != nil {
			t.Fatalf("%v: %s", err, r)
		}
		if rs.HSTS != "max-age=1" || len(rs.Hosts) != 3 || rs.Hosts["a.example.com"].Routes[0].Path != "/x" ||
			rs.Hosts["old.example.com"].Routes == nil || rs.Hosts["new.example.com"].Routes == nil {
			t.Errorf("items %v: routes union %s", items, r)
		}
	}
}

// A patch carries the items that changed or came and names those gone.
func TestPatch(t *testing.T) {
	old, _ := Lua{Backends: []Backend{{Name: "a"}, {Name: "b"}, {Name: "c"}}, Routes: Routes{Hosts: map[string]HostRoutes{"x": {}, "y": {}}}}.Encode(nil)
	next, _ := Lua{Backends: []Backend{{Name: "a"}, {Name: "b", LoadBalance: "ewma"}, {Name: "d"}},
		Routes: Routes{HSTS: "max-age=1", Hosts: map[string]HostRoutes{"x": {}, "z": {}}}}.Encode(nil)
	b, touched, err := next.Backends.Patch(old.Backends.Items)
	if want := `{"backends":[{"name":"b","loadBalance":"ewma","endpoints":[]},{"name":"d","loadBalance":"","endpoints":[]}],"deleted":["c"]}`; err != nil || string(b) != want {
		t.Errorf("backends patch %s, %v; want %s", b, err, want)
	}
	if slices.Sort(touched); !slices.Equal(touched, []string{"b", "c", "d"}) {
		t.Errorf("backends patch touched %v, want b, c, d", touched)
	}
	r, _, err := next.Routes.Patch(old.Routes.Items)
	if want := `{"hsts":"max-age=1","hosts":{"z":{"routes":null}},"deleted":["y"]}`; err != nil || string(r) != want {
		t.Errorf("routes patch %s, %v; want %s", r, err, want)
	}
}
