package annotations

import (
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const nameUpstreamHashBy = "upstream-hash-by"

// HashBy is the key of consistent hashing: nginx variables ($ and
// [a-z0-9_]) and literal [A-Za-z0-9_-./:] characters, such as
// $request_uri or $host$request_uri. Lua reads each variable per request;
// the expression never reaches nginx.conf.
type HashBy string

var hashBy = regexp.MustCompile(`^(\$[a-z0-9_]+|[A-Za-z0-9_\-./:])+$`)

const maxHashBy = 256

func parseHashBy(a Annotations) (HashBy, []diag.Diagnostic) {
	v, ok := a.lookup(nameUpstreamHashBy)
	if !ok {
		return "", nil
	}
	if len(v) > maxHashBy || !hashBy.MatchString(v) || !strings.Contains(v, "$") {
		return "", invalid(nameUpstreamHashBy, v, "want nginx variables such as $request_uri or $host$arg_user, with literal letters, digits and _-./:")
	}
	return HashBy(v), nil
}
