package annotations

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The catalog has one entry for each annotation name ingress-nginx
// v1.15.1 registers, and no other.
func TestCatalogCoversIngressNginx(t *testing.T) {
	b, err := os.ReadFile("testdata/ingress-nginx-annotations.txt")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	var got []string
	for _, e := range Entries() {
		got = append(got, e.Name)
	}
	slices.Sort(got)
	for _, n := range want {
		if _, ok := slices.BinarySearch(got, n); !ok {
			t.Errorf("ingress-nginx annotation %s has no catalog entry", n)
		}
	}
	slices.Sort(want)
	for _, n := range got {
		if _, ok := slices.BinarySearch(want, n); !ok {
			t.Errorf("catalog entry %s is not an ingress-nginx v1.15.1 annotation", n)
		}
	}
}

// Each entry says what a user needs: a supported one its parser, risk and
// notes; a partly supported one the difference; an unsupported one why.
func TestCatalogEntriesAreComplete(t *testing.T) {
	sections := []Section{SectionPaths, SectionProxy, SectionCORS, SectionAuth, SectionErrors, SectionSnippets, SectionTraffic, SectionTLS, SectionOther}
	for _, e := range catalog {
		if !slices.Contains(sections, e.Section) {
			t.Errorf("%s: section %q", e.Name, e.Section)
		}
		switch e.Status {
		case Full, Partly:
			if e.parser == 0 || e.Risk == 0 {
				t.Errorf("%s is supported but has no parser or no risk level", e.Name)
			}
			if e.Status == Partly && e.Differs == "" {
				t.Errorf("%s is partly supported but does not say how it differs", e.Name)
			}
			if e.Status == Full && e.Differs != "" {
				t.Errorf("%s is fully supported but differs: %s", e.Name, e.Differs)
			}
			if e.Notes == "" && e.Differs == "" {
				t.Errorf("%s has no docs row", e.Name)
			}
		case NotSupported:
			if e.parser != 0 || e.Risk != 0 || e.Differs == "" {
				t.Errorf("%s is not supported: want no parser, no risk and a reason", e.Name)
			}
		}
		for _, s := range []string{e.Differs, e.Notes} {
			if strings.ContainsAny(s, "\n\r") {
				t.Errorf("%s: docs text spans lines: %q", e.Name, s)
			}
		}
	}
}

// Every supported name is parsed (not reported as unsupported), and every
// other name in the catalog is reported with its reason.
func TestParseFollowsCatalog(t *testing.T) {
	for _, e := range Entries() {
		_, ds := Parse(Annotations{Prefix + e.Name: "x"})
		var unsupported []string
		for _, d := range ds {
			if d.Reason == "UnsupportedAnnotation" {
				unsupported = append(unsupported, d.Message)
			}
		}
		switch {
		case e.Supported() && len(unsupported) > 0:
			t.Errorf("%s is supported but reported: %v", e.Name, unsupported)
		case !e.Supported() && (len(unsupported) != 1 || !strings.HasSuffix(unsupported[0], ": "+e.Differs)):
			t.Errorf("%s: reported %q, want one report ending in its reason %q", e.Name, unsupported, e.Differs)
		}
	}
	if got := SupportedNames(); !slices.IsSorted(got) || len(got) == 0 {
		t.Errorf("SupportedNames() = %v, want sorted names", got)
	}
}

// Parse runs each group parser once, however many of its names are set.
func TestParseRunsEachParserOnce(t *testing.T) {
	seen := map[parser]bool{}
	for _, p := range parsers {
		if seen[p] {
			t.Fatalf("a parser is run twice")
		}
		seen[p] = true
	}
	for _, e := range catalog {
		if e.Supported() && !seen[e.parser] {
			t.Errorf("the parser of %s is never run", e.Name)
		}
	}
}
