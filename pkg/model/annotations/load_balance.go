package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameLoadBalance = "load-balance"

// LoadBalance is a load-balancing algorithm of the Lua balancer.
type LoadBalance string

const (
	RoundRobin LoadBalance = "round_robin"
	EWMA       LoadBalance = "ewma"
)

// ParseLoadBalance parses an algorithm name; the ConfigMap key load-balance
// shares this grammar.
func ParseLoadBalance(v string) (LoadBalance, bool) {
	switch LoadBalance(v) {
	case RoundRobin, EWMA:
		return LoadBalance(v), true
	}
	return "", false
}

func parseLoadBalance(a Annotations) (LoadBalance, []diag.Diagnostic) {
	v, ok := a.lookup(nameLoadBalance)
	if !ok {
		return "", nil
	}
	lb, ok := ParseLoadBalance(v)
	if !ok {
		return "", invalid(nameLoadBalance, v, "want round_robin or ewma")
	}
	return lb, nil
}
