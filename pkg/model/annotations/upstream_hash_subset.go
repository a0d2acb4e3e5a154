package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const (
	nameUpstreamHashBySubset     = "upstream-hash-by-subset"
	nameUpstreamHashBySubsetSize = "upstream-hash-by-subset-size"
)

// defaultHashSubset and maxHashSubset bound upstream-hash-by-subset-size.
const (
	defaultHashSubset = 3
	maxHashSubset     = 1024
)

// parseHashSubset parses upstream-hash-by-subset and its size: with
// "true", upstream-hash-by maps a key to a subset of the endpoints, of
// size endpoints each (default 3), and the request goes to one of them
// at random. 0 when off.
func parseHashSubset(a Annotations) (int, []diag.Diagnostic) {
	on, _, ds := parseBool(a, nameUpstreamHashBySubset)
	size, d := parseInt(a, nameUpstreamHashBySubsetSize, 1, maxHashSubset, defaultHashSubset)
	ds = append(ds, d...)
	if !on || diag.HasError(ds) {
		return 0, ds
	}
	return size, ds
}
