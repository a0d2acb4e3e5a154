package plan

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// GeoIP2Database is one GeoIP2 database nginx reads (use-geoip2): a
// geoip2 block over File, Portico's copy of the mounted database
// (apply.DataFiles), that sets Vars. With no File (the database was never
// readable, or nginx refused every version so far) the variables are set
// empty, so that log formats and snippets naming them stay valid.
type GeoIP2Database struct {
	File string
	Vars []model.GeoIP2Var
}

// geoIP2Edition is the MaxMind edition of a database file: its name
// without ".mmdb".
func geoIP2Edition(path string) string { return strings.TrimSuffix(filepath.Base(path), ".mmdb") }

// logGeoIP2Variable finds the GeoIP2 variables a log format names.
var logGeoIP2Variable = regexp.MustCompile(`\$\{?(geoip2_[a-z_]+)`)

// geoIP2Of are the databases of m's data files, in their order; a
// variable two editions define is set by the first. The variables the
// access log names that no database sets are set empty, so that a format
// made for ingress-nginx stays valid whatever the editions.
func geoIP2Of(m *model.Config, opts Options) []GeoIP2Database {
	seen := map[string]bool{}
	var out []GeoIP2Database
	if m.Global.UseGeoIP2 {
		for _, path := range m.DataFiles {
			var vs []model.GeoIP2Var
			for _, v := range model.GeoIP2Variables[geoIP2Edition(path)] {
				if !seen[v.Name] {
					seen[v.Name] = true
					vs = append(vs, v)
				}
			}
			if len(vs) > 0 {
				out = append(out, GeoIP2Database{File: opts.DataFiles[path], Vars: vs})
			}
		}
	}
	var unset []model.GeoIP2Var
	if m.Global.AccessLog {
		for _, v := range logGeoIP2Variable.FindAllStringSubmatch(m.Global.LogFormat, -1) {
			if !seen[v[1]] {
				seen[v[1]] = true
				unset = append(unset, model.GeoIP2Var{Name: v[1]})
			}
		}
	}
	if len(unset) > 0 {
		out = append(out, GeoIP2Database{Vars: unset})
	}
	return out
}
