package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each compression key: valid values and what they set, and values
// outside its grammar.
func TestConfigMapCompressionKeys(t *testing.T) {
	testKeyValues(t, []keyValues{
		{key: "use-gzip", good: map[string]func(*Global){
			"true": func(g *Global) {
				g.Gzip = &Compression{Level: 1, MinLength: 256, Types: strings.Fields(defaultCompressedTypes)}
			},
			"false": func(*Global) {},
		}, bad: []string{"yes", "on", ""}},
		{key: "enable-brotli", good: map[string]func(*Global){
			"true": func(g *Global) {
				g.Brotli = &Compression{Level: 4, MinLength: 20, Types: strings.Fields(defaultBrotliTypes)}
			},
		}, bad: []string{"enabled"}},
		// Without use-gzip the gzip keys change nothing in effect.
		{key: "gzip-level", good: map[string]func(*Global){"9": func(*Global) {}, "1": func(*Global) {}},
			bad: []string{"0", "10", "-1", "high", "5;", ""}},
		{key: "gzip-min-length", good: map[string]func(*Global){"0": func(*Global) {}, "1000": func(*Global) {}},
			bad: []string{"-1", "1k", "1e3", "99999999999"}},
		{key: "gzip-types", good: map[string]func(*Global){"*": func(*Global) {}, "text/css  application/vnd.api+json": func(*Global) {}},
			bad: []string{"", "text", "text/css;", "text/$x", `"text/css"`, "text/css *", "text/css{", "a/b/c", "*/*"}},
		{key: "gzip-disable", good: map[string]func(*Global){"msie6": func(*Global) {}, `MSIE [4-6]\.`: func(*Global) {},
			"Mozilla/4.*(compatible; MSIE 6)": func(*Global) {}},
			bad: []string{"", `a"b`, `a\"b`, `a\\`, "(", "x\ny", "ä", strings.Repeat("a", 1025)}},
		{key: "brotli-level", good: map[string]func(*Global){"0": func(*Global) {}, "11": func(*Global) {}},
			bad: []string{"12", "-1", "x"}},
		{key: "brotli-min-length", good: map[string]func(*Global){"0": func(*Global) {}}, bad: []string{"20 bytes"}},
		{key: "brotli-types", good: map[string]func(*Global){"application/json": func(*Global) {}}, bad: []string{"json"}},
	})
}

// The gzip-* and brotli-* keys shape the method that is on; duplicate
// types are dropped.
func TestConfigMapCompressionCombined(t *testing.T) {
	g, _, ds := parseConfigMapKeeping(configMap(map[string]string{"use-gzip": "true", "gzip-level": "6", "gzip-min-length": "10",
		"gzip-types": "text/css application/json TEXT/CSS", "gzip-disable": "msie6", "enable-brotli": "true", "brotli-level": "11",
		"brotli-min-length": "0", "brotli-types": "*"}), nil, configRefs{})
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	want := Global{}
	want.Gzip = &Compression{Level: 6, MinLength: 10, Types: []string{"text/css", "application/json"}, Disable: "msie6"}
	want.Brotli = &Compression{Level: 11, MinLength: 0, Types: []string{"*"}}
	if diff := cmp.Diff([]*Compression{want.Gzip, want.Brotli}, []*Compression{g.Gzip, g.Brotli}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
