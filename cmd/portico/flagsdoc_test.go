package main

import (
	"os"
	"strings"
	"testing"
)

// The tables of docs/flags.md are printed from the flag definitions
// (flagTables). UPDATE_FLAGS_DOC=1 (make docs) rewrites them.
func TestFlagsDoc(t *testing.T) {
	const (
		path  = "../../docs/flags.md"
		begin = "<!-- controller flags: generated from the flag definitions (cmd/portico TestFlagsDoc, UPDATE_FLAGS_DOC=1) -->\n"
		end   = "<!-- end of controller flags -->\n"
	)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("docs/flags.md lacks the markers %q and %q", begin, end)
	}
	want := flagTables(newControllerCommand().Flags())
	if got := doc[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_FLAGS_DOC") == "1" {
			if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("docs/flags.md's controller flag tables are not current: run make docs (UPDATE_FLAGS_DOC=1 go test ./cmd/portico -run TestFlagsDoc)")
	}
}
