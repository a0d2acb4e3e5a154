package main

import (
	"os"
	"strings"
	"testing"
)

// The flag tables of README.md's "Running the controller" are printed from
// the flag definitions (flagTables). UPDATE_README=1 rewrites them.
func TestREADMEFlagTables(t *testing.T) {
	const (
		path  = "../../README.md"
		begin = "<!-- controller flags: generated from the flag definitions (cmd/portico TestREADMEFlagTables, UPDATE_README=1) -->\n"
		end   = "<!-- end of controller flags -->\n"
	)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q and %q", begin, end)
	}
	want := flagTables(newControllerCommand().Flags())
	if got := readme[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_README") == "1" {
			if err := os.WriteFile(path, []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("README.md's controller flag tables are not current: run UPDATE_README=1 go test ./cmd/portico -run TestREADMEFlagTables")
	}
}
