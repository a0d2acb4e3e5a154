package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/portico-ingress/portico/pkg/lint"
)

// lint -o json prints a Result that parses, and exits 1 on findings.
func TestLintCommandJSON(t *testing.T) {
	for _, tt := range []struct {
		dir   string
		diags int
		code  exitCode
	}{{"../../pkg/lint/testdata/good", 1, 0}, {"../../pkg/lint/testdata/bad", 10, 1}} { // good: 1 note
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"lint", "-o", "json", "-f", tt.dir})
		err := root.Execute()
		var code exitCode
		if errors.As(err, &code); code != tt.code || (err != nil && code == 0) {
			t.Errorf("%s: error %v, want exit code %d", tt.dir, err, tt.code)
		}
		var res lint.Result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%s: output is not JSON: %v\n%s", tt.dir, err, out.String())
		}
		if len(res.Diagnostics) != tt.diags || res.Objects == 0 {
			t.Errorf("%s: %d diagnostics over %d objects, want %d", tt.dir, len(res.Diagnostics), res.Objects, tt.diags)
		}
	}
}
