package annotations

import (
	"strconv"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Traffic groups the traffic-policy annotations: canary, rate limits,
// source ranges, session affinity and consistent hashing.
type Traffic struct {
	Canary      Canary
	RateLimit   RateLimit
	SourceRange SourceRange
	Affinity    Affinity
	HashBy      HashBy
	// HashSubset is the size of the subsets HashBy maps keys to
	// (upstream-hash-by-subset); 0 maps each key to one endpoint.
	HashSubset int
	// LegacyCanaryAffinity is a canary Ingress's affinity-canary-behavior:
	// legacy.
	LegacyCanaryAffinity bool
}

func parseTraffic(a Annotations) (Traffic, []diag.Diagnostic) {
	var (
		t     Traffic
		ds, d []diag.Diagnostic
	)
	t.Canary, d = parseCanary(a)
	ds = append(ds, d...)
	t.RateLimit, d = parseRateLimit(a)
	ds = append(ds, d...)
	t.SourceRange, d = parseSourceRange(a)
	ds = append(ds, d...)
	t.Affinity, d = parseAffinity(a)
	ds = append(ds, d...)
	t.HashBy, d = parseHashBy(a)
	ds = append(ds, d...)
	t.HashSubset, d = parseHashSubset(a)
	ds = append(ds, d...)
	t.LegacyCanaryAffinity, d = parseLegacyCanaryAffinity(a)
	ds = append(ds, d...)
	return t, ds
}

// parseInt parses a decimal annotation within [lo, hi]; def when unset.
func parseInt(a Annotations, name string, lo, hi, def int) (int, []diag.Diagnostic) {
	s, ok := a.lookup(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi || len(s) > 10 {
		return def, invalid(name, s, "want a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}
