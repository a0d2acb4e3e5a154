package apply

import "testing"

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
