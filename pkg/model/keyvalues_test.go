package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// keyValues are values of one ConfigMap key: valid ones with what they
// change of the default Global, and values outside its grammar.
type keyValues struct {
	key  string
	good map[string]func(g *Global)
	bad  []string
}

// testKeyValues checks that each valid value gives its Global alone and
// is in effect, and that each bad one is an InvalidOption error that
// leaves the default Global.
func testKeyValues(t *testing.T, tests []keyValues) {
	t.Helper()
	for _, tc := range tests {
		for v, change := range tc.good {
			g, inEffect, ds := parseConfigMapKeeping(configMap(map[string]string{tc.key: v}), nil, configRefs{})
			if len(ds) != 0 {
				t.Errorf("%s=%q: diagnostics %v", tc.key, v, ds)
				continue
			}
			want := defaultGlobal
			change(&want)
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("%s=%q: Global (-want +got):\n%s", tc.key, v, diff)
			}
			if inEffect[tc.key] != v {
				t.Errorf("%s=%q: in effect %v", tc.key, v, inEffect)
			}
		}
		for _, v := range tc.bad {
			g, inEffect, ds := parseConfigMapKeeping(configMap(map[string]string{tc.key: v}), nil, configRefs{})
			if len(ds) != 1 || ds[0].Reason != "InvalidOption" || ds[0].Severity != diag.Error ||
				!strings.Contains(ds[0].Message, "the default is used") {
				t.Errorf("%s=%q: diagnostics %v, want one InvalidOption error", tc.key, v, ds)
			}
			if diff := cmp.Diff(defaultGlobal, g); diff != "" {
				t.Errorf("%s=%q changed the global config:\n%s", tc.key, v, diff)
			}
			if len(inEffect) != 0 {
				t.Errorf("%s=%q: in effect %v", tc.key, v, inEffect)
			}
		}
	}
}
