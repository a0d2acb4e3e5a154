// Command gendocs writes the tables of docs/annotations.md and
// docs/configmap.md from the registries: the annotation catalog of
// pkg/model/annotations and the ConfigMap keys of pkg/model. Each table
// sits between a pair of markers in the hand-written file:
//
//	<!-- generated: NAME (make docs) -->
//	...
//	<!-- end generated -->
//
// Run it from the repository root (make docs); its test fails when the
// committed files differ from what it writes.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// docs are the generated files, relative to the repository root.
var docs = []string{"docs/annotations.md", "docs/configmap.md", "docs/logging.md"}

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	for _, d := range docs {
		path := filepath.Join(*root, d)
		old, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		out, err := fill(string(old), blocks())
		if err != nil {
			fail(fmt.Errorf("%s: %w", d, err))
		}
		if out != string(old) {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				fail(err)
			}
			fmt.Println("wrote", d)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendocs:", err)
	os.Exit(1)
}

// marker finds one generated block: its name and its current content.
var marker = regexp.MustCompile(`(?s)(<!-- generated: ([a-z0-9:-]+) \(make docs\) -->\n)(.*?)(<!-- end generated -->)`)

// fill replaces the content of each generated block of doc with the block
// of its name. Every marker must name a block; blocks of the same kind as
// one the document holds (annotations:…, configmap:…) must all be there,
// so a new section cannot be left out.
func fill(doc string, blocks map[string]string) (string, error) {
	var errs []string
	used := map[string]bool{}
	out := marker.ReplaceAllStringFunc(doc, func(m string) string {
		g := marker.FindStringSubmatch(m)
		name := g[2]
		b, ok := blocks[name]
		if !ok {
			errs = append(errs, "unknown generated block "+name)
			return m
		}
		used[name] = true
		return g[1] + b + g[4]
	})
	kinds := map[string]bool{}
	for name := range used {
		kind, _, _ := strings.Cut(name, ":")
		kinds[kind] = true
	}
	for name := range blocks {
		kind, _, _ := strings.Cut(name, ":")
		if kinds[kind] && !used[name] {
			errs = append(errs, "no marker for generated block "+name)
		}
	}
	if len(kinds) == 0 {
		errs = append(errs, "no generated block")
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return "", fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// blocks renders every generated block by name.
func blocks() map[string]string {
	m := map[string]string{}
	bySection := map[annotations.Section][]annotations.Entry{}
	var counts [3]int
	entries := annotations.Entries()
	for _, e := range entries {
		bySection[e.Section] = append(bySection[e.Section], e)
		counts[e.Status]++
	}
	for s, es := range bySection {
		var b strings.Builder
		b.WriteString("| annotation | status | risk | notes |\n| --- | --- | --- | --- |\n")
		for _, e := range es {
			risk := ""
			if e.Supported() {
				risk = e.Risk.String()
			}
			row(&b, code(e.Name), e.Status.String(), risk, notes(e.Status, e.Notes, e.Differs))
		}
		m["annotations:"+string(s)] = b.String()
	}
	m["annotations:summary"] = fmt.Sprintf("%d annotations: %d supported, %d partly, %d not supported.\n",
		len(entries), counts[annotations.Full], counts[annotations.Partly], counts[annotations.NotSupported])

	keys := model.ConfigKeys()
	counts = [3]int{}
	own, gone := 0, 0
	var b strings.Builder
	b.WriteString("| key | status | default | notes |\n| --- | --- | --- | --- |\n")
	for _, k := range keys {
		status := k.Status.String()
		switch {
		case k.Own:
			status, own = "Portico only", own+1
		case k.Gone:
			status, gone = "Removed by ingress-nginx", gone+1
		default:
			counts[k.Status]++
		}
		def := k.Default
		if def != "" && !strings.HasPrefix(def, "(") {
			def = code(def)
		}
		row(&b, code(k.Name), status, def, notes(k.Status, k.Meaning, k.Differs))
	}
	m["configmap:keys"] = b.String()
	m["logformat:variables"] = logVariables()
	m["configmap:summary"] = fmt.Sprintf("%d keys of ingress-nginx v1.15: %d supported, %d partly, %d not supported; %d that ingress-nginx removed earlier, refused with what replaced them; %d of Portico's own.\n",
		len(keys)-own-gone, counts[annotations.Full], counts[annotations.Partly], counts[annotations.NotSupported], gone, own)
	return m
}

// logVariables lists the variables log-format-upstream may name.
func logVariables() string {
	var b strings.Builder
	vars := slices.Sorted(slices.Values(model.NginxLogVariables))
	b.WriteString("nginx's: `$" + strings.Join(vars, "`, `$") + "`, and the families `$" +
		strings.Join(model.LogVariablePrefixes, "<name>`, `$") + "<name>`.\n\n")
	b.WriteString("Portico's: `$" + strings.Join(model.PorticoLogVariables, "`, `$") + "`.\n\n")
	b.WriteString("ingress-nginx's:\n\n| variable | in Portico |\n| --- | --- |\n")
	for _, v := range slices.Sorted(maps.Keys(model.IngressNginxLogVariables)) {
		row(&b, code("$"+v), model.IngressNginxLogVariables[v])
	}
	return b.String()
}

// notes is the notes cell: what the entry does, and how it differs from
// ingress-nginx or why it is not supported.
func notes(s annotations.Status, text, differs string) string {
	switch s {
	case annotations.Partly:
		return strings.TrimSpace("**Unlike ingress-nginx:** " + differs + " " + text)
	case annotations.NotSupported:
		return strings.TrimSpace(text + " " + differs)
	}
	return text
}

// row writes one table row; a | in a cell is escaped.
func row(b *strings.Builder, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
	}
	b.WriteString("\n")
}

func code(s string) string { return "`" + s + "`" }
