package annotations

import (
	"net/netip"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameLimitRPS             = "limit-rps"
	nameLimitRPM             = "limit-rpm"
	nameLimitConnections     = "limit-connections"
	nameLimitBurstMultiplier = "limit-burst-multiplier"
	nameLimitAllowlist       = "limit-allowlist"
	nameLimitWhitelist       = "limit-whitelist"
)

// RateLimit limits requests and connections per client address. Zero
// values are off.
type RateLimit struct {
	// RPS and RPM are requests per second and per minute; a client may
	// exceed them by a burst of rate times BurstMultiplier.
	RPS, RPM int
	// Connections caps a client's concurrent connections.
	Connections     int
	BurstMultiplier int
	// Allowlist holds client networks exempt from the limits.
	Allowlist []netip.Prefix
}

// On reports whether any limit is set.
func (r RateLimit) On() bool { return r.RPS > 0 || r.RPM > 0 || r.Connections > 0 }

const (
	maxRate       = 1000000
	maxMultiplier = 1000
)

func parseRateLimit(a Annotations) (RateLimit, []diag.Diagnostic) {
	var (
		r     RateLimit
		ds, d []diag.Diagnostic
	)
	r.RPS, d = parseInt(a, nameLimitRPS, 0, maxRate, 0)
	ds = append(ds, d...)
	r.RPM, d = parseInt(a, nameLimitRPM, 0, maxRate, 0)
	ds = append(ds, d...)
	r.Connections, d = parseInt(a, nameLimitConnections, 0, maxRate, 0)
	ds = append(ds, d...)
	r.BurstMultiplier, d = parseInt(a, nameLimitBurstMultiplier, 1, maxMultiplier, 5)
	ds = append(ds, d...)
	// limit-allowlist is the current name; limit-whitelist the old one.
	name := nameLimitAllowlist
	if _, ok := a.lookup(name); !ok {
		name = nameLimitWhitelist
	}
	r.Allowlist, d = parseCIDRs(a, name)
	ds = append(ds, d...)
	if diag.HasError(ds) || !r.On() {
		return RateLimit{}, ds
	}
	return r, ds
}
