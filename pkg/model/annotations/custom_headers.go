package annotations

import (
	"regexp"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const nameCustomHeaders = "custom-headers"

// The grammar of a custom-headers ConfigMap, ingress-nginx's: names of
// letters, digits, '-' and '_', values of its set of printable ASCII.
var (
	responseHeaderName  = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,256}$`)
	responseHeaderValue = regexp.MustCompile(`^[a-zA-Z0-9_ :;.,\\/"'?!(){}\[\]@<>=\-+*#$&` + "`" + `|~^%]+$`)
)

// ResponseHeaderName reports whether n may name a header of a
// custom-headers ConfigMap (and of global-allowed-response-headers).
func ResponseHeaderName(n string) bool { return responseHeaderName.MatchString(n) }

// ResponseHeaderValue reports whether v may be the value of a header of a
// custom-headers ConfigMap: ingress-nginx's characters, printable ASCII
// but none that ends a line. The plan quotes '"' and '\\' for nginx and
// keeps '$' literal.
func ResponseHeaderValue(v string) bool {
	return len(v) <= maxResponseHeaderValue && responseHeaderValue.MatchString(v)
}

// maxResponseHeaderValue bounds a custom header's value.
const maxResponseHeaderValue = 4096

// parseCustomHeaders parses custom-headers: the ConfigMap whose keys and
// values are headers added to every answer of the Ingress's locations
// (the model reads and checks it).
func parseCustomHeaders(a Annotations) (ObjectRef, []diag.Diagnostic) {
	return parseConfigMapRef(a, nameCustomHeaders)
}
