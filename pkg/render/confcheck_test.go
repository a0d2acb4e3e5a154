package render

import (
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/plan"
)

// renderConf is the nginx.conf of p; a render error fails the test.
func renderConf(t testing.TB, p *plan.Plan) string {
	t.Helper()
	conf, _, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(conf)
}

// wantIn reports each of wants that conf (named what, as in "default
// nginx.conf") lacks.
func wantIn(t testing.TB, what, conf string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(conf, want) {
			t.Errorf("%s lacks %q", what, want)
		}
	}
}

// wantNotIn reports each of unwanted that conf (named what) has.
func wantNotIn(t testing.TB, what, conf string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(conf, u) {
			t.Errorf("%s has %q", what, u)
		}
	}
}
