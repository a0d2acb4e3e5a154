package e2e

import (
	"fmt"
	"math"
	"testing"
)

// canaryPair creates, on host, a main Ingress to stable (a server block
// for a static kind) and a canary Ingress to preview with the canary
// annotations kv (names without the prefix).
func canaryPair(t *testing.T, ns string, k hostKind, host, name string, kv map[string]string) {
	t.Helper()
	createIngress(t, newIngress(ns, name, k.annotations(nil), hostRule(host, prefixPath("/", "stable"))))
	canary := map[string]string{ann + "canary": "true"}
	for n, v := range kv {
		canary[ann+n] = v
	}
	createIngress(t, newIngress(ns, name+"-canary", canary, hostRule(host, prefixPath("/", "preview"))))
}

// canaryHits sends n requests with header to host and counts those the
// canary (preview) answered; any other answer than stable's fails.
func canaryHits(t *testing.T, host string, n int, header map[string]string) int {
	t.Helper()
	hits := 0
	for range n {
		r, _ := getWith(t, host, "/", header)
		switch serviceOf(r) {
		case "preview":
			hits++
		case "stable":
		default:
			t.Fatalf("%s: answered by %s", host, serviceOf(r))
		}
	}
	return hits
}

// canary-by-header-pattern as ingress-nginx's balancer reads it: a value
// of the header that the regular expression matches (anywhere, PCRE)
// goes to the canary, any other to the main backend; with a pattern set,
// "always" and "never" are values like others; canary-by-header-value,
// when set too, wins and the pattern is ignored. Both kinds of host.
func TestCanaryByHeaderPattern(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "canarypattern")
	stable := newApp(t, ns, "stable", 1, "")
	newApp(t, ns, "preview", 1, "")
	var hosts []hostKind
	for _, k := range hostKinds(ns + ".example.com") {
		pattern, both := "pattern."+k.host, "both."+k.host
		hosts = append(hosts, hostKind{k.name, pattern}, hostKind{k.name, both})
		canaryPair(t, ns, k, pattern, k.name+"-pattern", map[string]string{"canary-by-header": "X-Canary",
			"canary-by-header-pattern": "^Do[A-Z][a-z]+y$"})
		canaryPair(t, ns, k, both, k.name+"-both", map[string]string{"canary-by-header": "X-Canary",
			"canary-by-header-value": "DoCanary", "canary-by-header-pattern": "^Do[A-Z][a-z]+y$"})
	}
	for _, h := range hosts {
		pattern := h.host[:len("pattern.")] == "pattern."
		servedBy(t, h.host, "/", stable)
		eventually(t, h.host+": the canary is attached", func() error {
			if r, _ := getWith(t, h.host, "/", map[string]string{"X-Canary": "DoCanary"}); serviceOf(r) != "preview" {
				return fmt.Errorf("X-Canary: DoCanary answered by %s", serviceOf(r))
			}
			return nil
		})
		for value, want := range map[string]string{
			"DoCanary":  "preview",
			"DoTuesday": map[bool]string{true: "preview", false: "stable"}[pattern], // the value wins over the pattern
			"Dolly":     "stable",
			"xDoCanary": "stable",
			"always":    "stable",
			"never":     "stable",
		} {
			header := map[string]string{"X-Canary": value}
			if n := canaryHits(t, h.host, 10, header); want == "preview" && n != 10 || want == "stable" && n != 0 {
				t.Errorf("%s host %s: X-Canary: %s sent %d of 10 requests to the canary, want them all at %s", h.name, h.host, value, n, want)
			}
		}
		if n := canaryHits(t, h.host, 10, nil); n != 0 {
			t.Errorf("%s: no header sent %d of 10 requests to the canary", h.host, n)
		}
	}
	checkKinds(t, hosts)
}

// canary-weight-total as ingress-nginx's balancer counts it: weight of
// max(total, 100) requests go to the canary, so weight 1000 of 1000
// sends all, 500 of 1000 about half, 10 of 10 about a tenth (a total
// below 100 counts as 100), and a weight above the total all. Both kinds
// of host.
func TestCanaryWeightTotal(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "canarytotal")
	stable := newApp(t, ns, "stable", 1, "")
	newApp(t, ns, "preview", 1, "")
	cases := []struct {
		name, weight, total string
		share               float64
	}{
		{"all", "1000", "1000", 1},
		{"half", "500", "1000", 0.5},
		{"small", "10", "10", 0.1},
		{"over", "200", "100", 1},
	}
	var hosts []hostKind
	for _, k := range hostKinds(ns + ".example.com") {
		for _, c := range cases {
			host := c.name + "." + k.host
			hosts = append(hosts, hostKind{k.name, host})
			canaryPair(t, ns, k, host, k.name+"-"+c.name, map[string]string{"canary-weight": c.weight, "canary-weight-total": c.total})
		}
	}
	for i, h := range hosts {
		c := cases[i%len(cases)]
		// The main Ingress serves first; the canary's route follows in
		// the same push or the next.
		eventually(t, h.host+": served, the canary attached", func() error {
			r, _ := getWith(t, h.host, "/", nil)
			if serviceOf(r) != "preview" && serviceOf(r) != stable.name {
				return fmt.Errorf("answered by %s", serviceOf(r))
			}
			if canaryHits(t, h.host, 20, nil) == 0 {
				return fmt.Errorf("no request of 20 reached the canary")
			}
			return nil
		})
		const n = 400
		hits := canaryHits(t, h.host, n, nil)
		if c.share == 1 {
			if hits != n {
				t.Errorf("%s: weight %s of %s sent %d of %d requests to the canary, want all", h.host, c.weight, c.total, hits, n)
			}
			continue
		}
		// Binomial(n, share): 4.5 sigma either side.
		mean, sigma := n*c.share, math.Sqrt(n*c.share*(1-c.share))
		if math.Abs(float64(hits)-mean) > 4.5*sigma {
			t.Errorf("%s: weight %s of %s sent %d of %d requests to the canary, want %.0f ± %.0f", h.host, c.weight, c.total, hits, n, mean, 4.5*sigma)
		}
		t.Logf("%s: weight %s of %s: %d of %d to the canary", h.host, c.weight, c.total, hits, n)
	}
	checkKinds(t, hosts)
}
