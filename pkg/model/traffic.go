package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Traffic policy: canary, rate limits, source ranges, affinity and
// consistent hashing. Limits and source ranges are nginx directives of a
// location; canary, affinity and hashing travel with the backend to Lua,
// so changing them (a canary weight, say) never reloads nginx.

// Canary is a route's alternative backend, chosen per request in Lua:
// header first, then cookie, then weight (see annotations.Canary).
type Canary struct {
	// Backend names the entry of Config.Backends of the canary.
	Backend       string     `json:"backend"`
	Ingress       IngressRef `json:"ingress"`
	Weight        int        `json:"weight"`
	WeightTotal   int        `json:"weightTotal"`
	Header        string     `json:"header,omitempty"`
	HeaderValue   string     `json:"headerValue,omitempty"`
	HeaderPattern string     `json:"headerPattern,omitempty"`
	Cookie        string     `json:"cookie,omitempty"`
}

// RateLimit holds the limits of one Ingress: its locations share them,
// per client address but for the addresses of Allowlist.
type RateLimit struct {
	// Scope is a hash of the Ingress that tells its limits from another's.
	Scope     string     `json:"scope"`
	Ingress   IngressRef `json:"ingress"`
	Allowlist []string   `json:"allowlist,omitempty"`
	Limits
}

// Limits are rates with their bursts (limit_req ... burst nodelay) and
// concurrent connections (limit_conn) per client address; 0 is none.
type Limits struct {
	RPS         int `json:"rps,omitempty"`
	BurstRPS    int `json:"burstRPS,omitempty"`
	RPM         int `json:"rpm,omitempty"`
	BurstRPM    int `json:"burstRPM,omitempty"`
	Connections int `json:"connections,omitempty"`
}

// SourceRange lists canonical CIDRs: Deny first, then Allow, then, when
// Allow is set, everyone else is denied.
type SourceRange struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// ingressTraffic is the traffic policy of one non-canary Ingress.
type ingressTraffic struct {
	rateLimit   *RateLimit
	sourceRange *SourceRange
	affinity    *annotations.Affinity
	hashBy      annotations.HashBy
	hashSubset  int
}

// policy reports whether t sends its backend to Lua with a policy of its
// own: affinity or hashing.
func (t *ingressTraffic) policy() bool { return t != nil && (t.affinity != nil || t.hashBy != "") }

// canaryIngress is a canary Ingress waiting for the main routes to exist.
type canaryIngress struct {
	ing *networkingv1.Ingress
	set annotations.Set
	lb  annotations.LoadBalance
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// traffic records the policy of a non-canary Ingress for its paths.
func (b *builder) traffic(ref IngressRef, t annotations.Traffic) {
	tr := policyOf(t)
	if rl := t.RateLimit; rl.On() {
		sum := sha256.Sum256([]byte(ref.String()))
		scope := hex.EncodeToString(sum[:6])
		m := &RateLimit{Scope: scope, Ingress: ref,
			Limits: Limits{RPS: rl.RPS, BurstRPS: rl.RPS * rl.BurstMultiplier, RPM: rl.RPM, BurstRPM: rl.RPM * rl.BurstMultiplier,
				Connections: rl.Connections}}
		if len(rl.Allowlist) > 0 {
			m.Allowlist = prefixStrings(rl.Allowlist)
		}
		tr.rateLimit = m
		b.cfg.RateLimits = append(b.cfg.RateLimits, m)
	}
	if sr := t.SourceRange; len(sr.Allow)+len(sr.Deny) > 0 {
		tr.sourceRange = &SourceRange{}
		if len(sr.Allow) > 0 {
			tr.sourceRange.Allow = prefixStrings(sr.Allow)
		}
		if len(sr.Deny) > 0 {
			tr.sourceRange.Deny = prefixStrings(sr.Deny)
		}
	}
	if b.trafficOf == nil {
		b.trafficOf = map[IngressRef]*ingressTraffic{}
	}
	b.trafficOf[ref] = tr
}

// policyOf is the affinity and hashing of t, the rest of ingressTraffic
// unset.
func policyOf(t annotations.Traffic) *ingressTraffic {
	tr := &ingressTraffic{hashBy: t.HashBy, hashSubset: t.HashSubset}
	if t.Affinity.Cookie != "" {
		af := t.Affinity
		tr.affinity = &af
	}
	return tr
}

// attachCanaries gives each canary path's matching main routes (same host,
// same nginx location) the canary backend. Canaries never create routes.
// The oldest canary of a route wins.
func (b *builder) attachCanaries() {
	for _, c := range b.canaries {
		ing := c.ing
		obj := diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		ref := IngressRef{ing.Namespace, ing.Name}
		for ri, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			if rule.Host != "" {
				if _, err := parseHost(rule.Host); err != nil {
					b.diag(obj, diag.Errorf(fmt.Sprintf("spec.rules[%d].host", ri), "InvalidHost", "%v; the canary rule is ignored", err))
					continue
				}
			}
			srv := b.servers[rule.Host]
			for pi, p := range rule.HTTP.Paths {
				field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
				b.attachCanary(obj, ref, srv, rule.Host, field, p, c)
			}
		}
	}
}

func (b *builder) attachCanary(obj diag.Object, ref IngressRef, srv *serverBuild, host, field string, p networkingv1.HTTPIngressPath, c canaryIngress) {
	path, pt := IngressPathOf(p)
	// The main routes: on a regex host those of the same path and
	// pathType, as ingress-nginx matches them; else those of the same
	// locations.
	var routes []*route
	if srv != nil && srv.regex {
		if _, err := annotations.ParseRegexPath(path); err != nil {
			b.diag(obj, diag.Errorf(field, "InvalidPath", "%v; the canary path is ignored", err))
			return
		}
		routes = srv.regexRoutesOf(path, pt)
	} else {
		ms, err := pathMatches(path, pt)
		if err != nil {
			b.diag(obj, diag.Errorf(field, "InvalidPath", "%v; the canary path is ignored", err))
			return
		}
		for _, m := range ms {
			if srv != nil && srv.routes[m] != nil {
				routes = append(routes, srv.routes[m])
			}
		}
	}
	be := b.routeBackend(obj, field+".backend", &p.Backend, c.lb, c.set.ServiceUpstream)
	if be == "" {
		return
	}
	cs := c.set.Traffic.Canary
	attached, taken := false, ""
	for _, r := range routes {
		if r.loc.Backend == "" {
			continue
		}
		if r.canary != nil && r.canary.Ingress != ref {
			taken = r.canary.Ingress.String()
			continue
		}
		r.canary = &Canary{Backend: be, Ingress: ref, Weight: cs.Weight, WeightTotal: cs.WeightTotal,
			Header: string(cs.Header), HeaderValue: cs.HeaderValue, HeaderPattern: cs.HeaderPattern, Cookie: string(cs.Cookie)}
		r.canaryPolicy = c.set.Traffic
		attached = true
	}
	switch {
	case attached:
	case taken != "":
		b.diag(obj, diag.Warnf(field, "CanaryConflict",
			"%s path %s on host %q already has canary Ingress %s, which is older; this canary path is ignored", pt, path, host, taken))
	default:
		b.diag(obj, diag.Warnf(field, "CanaryWithoutMain",
			"no non-canary Ingress serves %s path %s on host %q; this canary path is ignored", pt, path, host))
	}
}

// variant returns the backend a route's location names: its Service
// backend, or, when the route has affinity, hashing or a canary, a copy
// that carries them, named after the base and the Ingresses involved
// ("ns/svc:80@ns/main+ns/canary-svc:80@ns/canary").
func (b *builder) variant(r *route) string {
	name := r.loc.Backend
	tr := b.trafficOf[r.loc.Ingress]
	policy := tr.policy()
	if name == "" || (!policy && r.canary == nil) {
		return name
	}
	base := b.backends.byName[name]
	if policy {
		name += "@" + r.loc.Ingress.String()
	}
	var canary *Canary
	if r.canary != nil {
		c := *r.canary
		c.Backend = b.canaryVariant(r, tr)
		canary = &c
		name += "+" + c.Backend
		if c.Backend == r.canary.Backend {
			name += "@" + r.canary.Ingress.String()
		}
	}
	if _, ok := b.backends.byName[name]; ok {
		return name
	}
	v := *base
	v.Name = name
	v.Canary = canary
	if policy {
		v.setPolicy(tr)
	}
	b.backends.byName[name] = &v
	return name
}

// canaryVariant returns the backend of route r's canary, whose main
// Ingress has policy main: the canary's Service backend, or a copy with
// the canary Ingress's hashing and affinity, as ingress-nginx keeps them
// for canaries; with affinity-canary-behavior sticky (the default), the
// affinity is the main Ingress's instead, so that the canary pins the
// clients it serves as the main backend does (named
// "ns/canary-svc:80@ns/canary@ns/main" then).
func (b *builder) canaryVariant(r *route, main *ingressTraffic) string {
	c := r.canary
	own := policyOf(r.canaryPolicy)
	if !r.canaryPolicy.LegacyCanaryAffinity {
		own.affinity = nil
		if main != nil {
			own.affinity = main.affinity
		}
	}
	if !own.policy() {
		return c.Backend
	}
	name := c.Backend + "@" + c.Ingress.String()
	if !r.canaryPolicy.LegacyCanaryAffinity && own.affinity != nil {
		name += "@" + r.loc.Ingress.String()
	}
	if _, ok := b.backends.byName[name]; !ok {
		v := *b.backends.byName[c.Backend]
		v.Name = name
		v.setPolicy(own)
		b.backends.byName[name] = &v
	}
	return name
}

// setPolicy gives v the affinity and hashing of t.
func (v *Backend) setPolicy(t *ingressTraffic) {
	v.Affinity, v.HashBy, v.HashSubset = t.affinity, t.hashBy, t.hashSubset
}
