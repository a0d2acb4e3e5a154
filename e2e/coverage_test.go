package e2e

import (
	"flag"
	"fmt"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// annotationsNotExercised lists the annotations Portico supports that no
// Ingress of the suite carried, as the API server's audit log recorded the
// suite's Ingress writes. It is checked only when the whole suite ran (no
// -run or -skip): a focused run sets few of them.
func annotationsNotExercised() ([]string, error) {
	for _, f := range []string{"test.run", "test.skip"} {
		if fl := flag.Lookup(f); fl != nil && fl.Value.String() != "" {
			return nil, nil
		}
	}
	keys, err := env.cp.IngressAnnotationsAudited()
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, name := range annotations.SupportedNames() {
		if !keys[ann+name] {
			missing = append(missing, name)
		}
	}
	return missing, nil
}

// checkAnnotationsExercised fails the suite when a supported annotation
// was never set on an Ingress by any test.
func checkAnnotationsExercised() error {
	missing, err := annotationsNotExercised()
	if err != nil {
		return fmt.Errorf("annotation coverage: %w", err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("annotation coverage: no test set these supported annotations on an Ingress: %s", strings.Join(missing, ", "))
	}
	return nil
}
