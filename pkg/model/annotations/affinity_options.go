package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const (
	nameAffinityCanaryBehavior       = "affinity-canary-behavior"
	nameSessionCookieChangeOnFailure = "session-cookie-change-on-failure"
	nameSessionCookieConditionalNone = "session-cookie-conditional-samesite-none"
	canaryBehaviorSticky             = "sticky"
	canaryBehaviorLegacy             = "legacy"
)

// AffinityOptions are how cookie affinity meets failures and old
// browsers.
type AffinityOptions struct {
	// ChangeOnFailure (session-cookie-change-on-failure) pins the client
	// to the endpoint a retry reached when its own failed, with a new
	// cookie; otherwise the cookie stays.
	ChangeOnFailure bool `json:"changeOnFailure,omitempty"`
	// ConditionalSameSiteNone (session-cookie-conditional-samesite-none)
	// leaves SameSite=None out for the browsers that reject it.
	ConditionalSameSiteNone bool `json:"conditionalSameSiteNone,omitempty"`
}

func parseAffinityOptions(a Annotations) (AffinityOptions, []diag.Diagnostic) {
	var o AffinityOptions
	var ds, d []diag.Diagnostic
	o.ChangeOnFailure, _, ds = parseBool(a, nameSessionCookieChangeOnFailure)
	o.ConditionalSameSiteNone, _, d = parseBool(a, nameSessionCookieConditionalNone)
	return o, append(ds, d...)
}

// parseLegacyCanaryAffinity parses affinity-canary-behavior, which a
// canary Ingress sets: "sticky" (default: the canary backend gets the
// main Ingress's affinity, so a client the canary served stays on it) or
// "legacy" (true: the canary keeps its own, and is chosen per request for
// clients the main backend has not pinned).
func parseLegacyCanaryAffinity(a Annotations) (bool, []diag.Diagnostic) {
	v, ok := a.lookup(nameAffinityCanaryBehavior)
	switch {
	case !ok || v == canaryBehaviorSticky:
		return false, nil
	case v == canaryBehaviorLegacy:
		return true, nil
	}
	return false, invalid(nameAffinityCanaryBehavior, v, "want sticky or legacy")
}
