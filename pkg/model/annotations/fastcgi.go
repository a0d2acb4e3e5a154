package annotations

import (
	"regexp"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameFastCGIIndex  = "fastcgi-index"
	nameFastCGIParams = "fastcgi-params-configmap"
)

// FastCGI is what a location with backend-protocol FCGI adds to the
// FastCGI request (nginx's fastcgi_index and fastcgi_param).
type FastCGI struct {
	// Index is the file appended to a URI that ends in '/' in
	// $fastcgi_script_name; "" for none.
	Index string `json:"index,omitempty"`
	// Params names the ConfigMap of parameters the model reads.
	Params ObjectRef `json:"params,omitzero"`
}

// IsZero reports whether nothing is set.
func (f FastCGI) IsZero() bool { return f == FastCGI{} }

// fastCGIName is ingress-nginx's grammar of fastcgi-index and of a
// parameter's name: a file name of letters, digits, '.', '-' and '_'.
var fastCGIName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,256}$`)

// FastCGIParamName reports whether n may name a FastCGI parameter.
func FastCGIParamName(n string) bool { return fastCGIName.MatchString(n) }

func parseFastCGI(a Annotations) (FastCGI, []diag.Diagnostic) {
	var f FastCGI
	var ds []diag.Diagnostic
	if v, ok := a.lookup(nameFastCGIIndex); ok {
		if fastCGIName.MatchString(v) {
			f.Index = v
		} else {
			ds = append(ds, invalid(nameFastCGIIndex, v, "want a file name of letters, digits and ._- such as index.php")...)
		}
	}
	var d []diag.Diagnostic
	f.Params, d = parseConfigMapRef(a, nameFastCGIParams)
	return f, append(ds, d...)
}
