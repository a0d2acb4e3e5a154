package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed docs are what the registries generate.
func TestDocsAreGenerated(t *testing.T) {
	for _, d := range docs {
		b, err := os.ReadFile(filepath.Join("..", "..", d))
		if err != nil {
			t.Fatal(err)
		}
		got, err := fill(string(b), blocks())
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if got == string(b) {
			continue
		}
		old, gen := strings.Split(string(b), "\n"), strings.Split(got, "\n")
		line := 0
		for line < len(old) && line < len(gen) && old[line] == gen[line] {
			line++
		}
		t.Errorf("%s is not what the registries generate (first difference at line %d); run make docs (go run ./hack/gendocs) and commit it", d, line+1)
	}
}

func TestFill(t *testing.T) {
	blocks := map[string]string{"a:x": "X\n", "a:y": "Y\n", "b:z": "Z\n"}
	doc := "intro\n<!-- generated: a:x (make docs) -->\nold\n<!-- end generated -->\nmid\n<!-- generated: a:y (make docs) -->\n<!-- end generated -->\n"
	got, err := fill(doc, blocks)
	want := "intro\n<!-- generated: a:x (make docs) -->\nX\n<!-- end generated -->\nmid\n<!-- generated: a:y (make docs) -->\nY\n<!-- end generated -->\n"
	if err != nil || got != want {
		t.Errorf("fill = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{
		"<!-- generated: a:x (make docs) -->\n<!-- end generated -->\n",                                                              // a:y missing
		"<!-- generated: a:x (make docs) -->\n<!-- end generated -->\n<!-- generated: a:q (make docs) -->\n<!-- end generated -->\n", // unknown
		"no markers\n",
	} {
		if _, err := fill(bad, blocks); err == nil {
			t.Errorf("fill(%q) did not fail", bad)
		}
	}
}
