package annotations

import (
	"fmt"
	"sort"
)

// Status is how far Portico supports an ingress-nginx annotation (or a
// ConfigMap key: pkg/model shares this type).
type Status int

const (
	// NotSupported names are reported as unsupported and ignored.
	NotSupported Status = iota
	// Partly supported names are parsed and applied; Portico differs
	// from ingress-nginx in a way a migrating user may notice.
	Partly
	// Full support: parsed and applied as ingress-nginx does.
	Full
)

func (s Status) String() string {
	switch s {
	case Full:
		return "supported"
	case Partly:
		return "partly"
	}
	return "not supported"
}

// Section groups entries for docs/annotations.md: each section's table is
// generated between markers that name it.
type Section string

const (
	SectionPaths    Section = "paths"
	SectionProxy    Section = "proxy"
	SectionCORS     Section = "cors"
	SectionAuth     Section = "auth"
	SectionErrors   Section = "errors"
	SectionSnippets Section = "snippets"
	SectionTraffic  Section = "traffic"
	SectionTLS      Section = "tls"
	SectionOther    Section = "other"
)

// Entry is what Portico knows about one annotation name of ingress-nginx:
// whether and how it is supported, its risk, its parser and its row in
// docs/annotations.md. The catalog holds one Entry per name.
type Entry struct {
	// Name is the annotation without Prefix.
	Name    string
	Section Section
	Status  Status
	// Risk is checked against the ConfigMap's annotations-risk-level;
	// zero when not supported.
	Risk Risk
	// Differs says, in a sentence or two, how Portico differs from
	// ingress-nginx (Partly), or why the annotation is not supported and
	// what to use instead (NotSupported). Diagnostics and lint show it.
	Differs string
	// Notes is the rest of the docs row: grammar, defaults and how
	// Portico carries the annotation.
	Notes string
	// parser reads the annotation, with the others of its group, into a
	// Set; zero when not supported.
	parser parser
}

// Supported reports whether the entry's annotation is parsed and applied.
func (e Entry) Supported() bool { return e.Status != NotSupported }

// Derived from the catalog once: the entries by name, the parsers in the
// order Parse runs them, and the sorted names of supported annotations.
var (
	byName         = map[string]*Entry{}
	parsers        []parser
	supportedNames []string
)

func init() {
	seen := map[parser]bool{}
	for i := range catalog {
		e := &catalog[i]
		if byName[e.Name] != nil {
			panic(fmt.Sprintf("annotations: %s is in the catalog twice", e.Name))
		}
		byName[e.Name] = e
		if !e.Supported() {
			continue
		}
		if e.parser == 0 {
			panic(fmt.Sprintf("annotations: %s is supported but has no parser", e.Name))
		}
		supportedNames = append(supportedNames, e.Name)
		if !seen[e.parser] {
			seen[e.parser] = true
			parsers = append(parsers, e.parser)
		}
	}
	sort.Strings(supportedNames)
}

// Lookup returns the catalog entry of annotation name (without Prefix).
func Lookup(name string) (Entry, bool) {
	e, ok := byName[name]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Entries returns every catalog entry, in catalog order.
func Entries() []Entry { return append([]Entry(nil), catalog...) }

// Supported reports whether name (without Prefix) is a supported annotation.
func Supported(name string) bool {
	e, ok := byName[name]
	return ok && e.Supported()
}

// SupportedNames returns every supported annotation name, sorted.
func SupportedNames() []string { return append([]string(nil), supportedNames...) }
