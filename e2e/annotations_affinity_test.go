package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// cookiePair is the name=value of a Set-Cookie header.
func cookiePair(setCookie string) string {
	return strings.SplitN(setCookie, ";", 2)[0]
}

// affinity-canary-behavior, set on the canary Ingress as in ingress-nginx:
// a client the main backend pinned stays on it whatever the canary rules
// say; with sticky (the default) the canary pins the clients it serves
// too, with legacy it pins nobody and each request without the main
// backend's cookie is shaped again.
func TestCanaryAffinity(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "canaryaff")
	main := newApp(t, ns, "main", 2, "")
	canary := newApp(t, ns, "canary", 2, "")
	kinds := hostKinds(ns + ".example.com")
	var hosts []hostKind
	for _, k := range kinds {
		for _, mode := range []string{"sticky", "legacy"} {
			host := mode + "." + k.host
			hosts = append(hosts, hostKind{k.name, host})
			createIngress(t, newIngress(ns, k.name+"-"+mode, k.annotations(map[string]string{"affinity": "cookie",
				"session-cookie-name": "route"}), hostRule(host, prefixPath("/", "main"))))
			createIngress(t, newIngress(ns, k.name+"-"+mode+"-canary", map[string]string{ann + "canary": "true",
				ann + "canary-by-header": "X-Canary", ann + "affinity-canary-behavior": mode}, hostRule(host, prefixPath("/", "canary"))))
		}
	}
	always := map[string]string{"X-Canary": "always"}
	for _, k := range kinds {
		sticky, legacy := "sticky."+k.host, "legacy."+k.host
		var pinned string
		eventually(t, k.name+": sticky: the canary pins the client it serves", func() error {
			r, set := getWith(t, sticky, "/", always)
			if serviceOf(r) != canary.name || !strings.HasPrefix(set, "route=") {
				return fmt.Errorf("%s, Set-Cookie %q", serviceOf(r), set)
			}
			pinned = cookiePair(set)
			return nil
		})
		pod := ""
		for i := range 10 {
			r, set := getWith(t, sticky, "/", map[string]string{"Cookie": pinned})
			if serviceOf(r) != canary.name || set != "" || pod != "" && r.echo.Pod != pod {
				t.Fatalf("%s: sticky: request %d with the canary's cookie: %s (pod %v, first %s), Set-Cookie %q", k.name, i,
					serviceOf(r), r.echo, pod, set)
			}
			pod = r.echo.Pod
		}

		eventually(t, k.name+": legacy: the canary serves without pinning", func() error {
			r, set := getWith(t, legacy, "/", always)
			if serviceOf(r) != canary.name || set != "" {
				return fmt.Errorf("%s, Set-Cookie %q", serviceOf(r), set)
			}
			return nil
		})
		for _, host := range []string{sticky, legacy} {
			r, set := getWith(t, host, "/", nil)
			if serviceOf(r) != main.name || !strings.HasPrefix(set, "route=") {
				t.Fatalf("%s: %s: without the header: %s, Set-Cookie %q", k.name, host, serviceOf(r), set)
			}
			mainCookie := cookiePair(set)
			for range 5 {
				r, _ := getWith(t, host, "/", map[string]string{"Cookie": mainCookie, "X-Canary": "always"})
				if serviceOf(r) != main.name {
					t.Fatalf("%s: %s: the main backend's client went to %s", k.name, host, serviceOf(r))
				}
			}
			if host == legacy {
				// The canary's own answer set no cookie: a client it served
				// once is shaped again (no header: the main backend).
				if r, _ := getWith(t, host, "/", nil); serviceOf(r) != main.name {
					t.Fatalf("%s: legacy: a client without header went to %s", k.name, serviceOf(r))
				}
			}
		}
	}
	checkKinds(t, hosts)
}

// session-cookie-change-on-failure: when the pinned pod fails (its process
// is gone, its endpoint still listed), a retry reaches another pod; with
// "true" the client gets a cookie for the pod that answered, by default
// the retry stays on the pinned pod (502) and the cookie is kept, as in
// ingress-nginx. session-cookie-conditional-samesite-none leaves
// SameSite=None out for the browsers that reject it.
func TestStickyCookieOptions(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "stickyopts")
	kinds := hostKinds(ns + ".example.com")
	var hosts []hostKind
	apps := map[string]*app{}
	for _, k := range kinds {
		for _, change := range []string{"true", "false"} {
			name := k.name + "-change-" + change
			apps[name] = newApp(t, ns, name, 2, "")
			hosts = append(hosts, hostKind{k.name, name + "." + k.host})
			createIngress(t, newIngress(ns, name, k.annotations(map[string]string{"affinity": "cookie", "session-cookie-name": "route",
				"session-cookie-change-on-failure": change, "session-cookie-samesite": "None",
				"session-cookie-conditional-samesite-none": "true"}), hostRule(name+"."+k.host, prefixPath("/", name))))
		}
	}
	const (
		oldChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.113 Safari/537.36"
		newChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	)
	for _, k := range kinds {
		for _, change := range []string{"true", "false"} {
			name := k.name + "-change-" + change
			a, host := apps[name], name+"."+k.host
			var pinned, stuck string
			eventually(t, name+": pinned, SameSite=None for a current browser", func() error {
				r, set := getWith(t, host, "/", map[string]string{"User-Agent": newChrome})
				if serviceOf(r) != a.name || !strings.HasPrefix(set, "route=") || !strings.Contains(set, "SameSite=None") {
					return fmt.Errorf("%s, Set-Cookie %q", serviceOf(r), set)
				}
				pinned, stuck = cookiePair(set), r.echo.Pod
				return nil
			})
			if r, set := getWith(t, host, "/", map[string]string{"User-Agent": oldChrome}); serviceOf(r) != a.name ||
				!strings.HasPrefix(set, "route=") || strings.Contains(set, "SameSite") {
				t.Errorf("%s: Chrome 60: %s, Set-Cookie %q, want no SameSite", name, serviceOf(r), set)
			}
			for _, p := range a.pods {
				if p.name == stuck {
					p.echo.Kill()
				}
			}
			r, set := getWith(t, host, "/", map[string]string{"Cookie": pinned})
			if change == "false" {
				if r.code != 502 || set != "" {
					t.Errorf("%s: pinned pod gone: %s, Set-Cookie %q, want 502 and the cookie kept", name, serviceOf(r), set)
				}
				continue
			}
			if r.echo == nil || r.echo.Pod == stuck || !strings.HasPrefix(set, "route=") || cookiePair(set) == pinned {
				t.Fatalf("%s: pinned pod gone: %s, Set-Cookie %q, want the other pod and a new cookie", name, serviceOf(r), set)
			}
			moved := r.echo.Pod
			for range 5 {
				if r, _ := getWith(t, host, "/", map[string]string{"Cookie": cookiePair(set)}); r.echo == nil || r.echo.Pod != moved {
					t.Fatalf("%s: the new cookie went to %s, want %s", name, serviceOf(r), moved)
				}
			}
		}
	}
	checkKinds(t, hosts)
}

// upstream-hash-by-subset: a key maps to a subset of
// upstream-hash-by-subset-size pods, and its requests spread over that
// subset; here 6 pods make 2 subsets of 3.
func TestUpstreamHashBySubset(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "hashsub")
	a := newApp(t, ns, "web", 6, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name, k.annotations(map[string]string{"upstream-hash-by": "$arg_user",
			"upstream-hash-by-subset": "true", "upstream-hash-by-subset-size": "3"}), hostRule(k.host, prefixPath("/", "web"))))
	}
	for _, k := range kinds {
		servedBy(t, k.host, "/", a)
		subsets := map[string]bool{}
		for u := range 8 {
			pods := map[string]bool{}
			// 40 requests over 3 pods at random: each pod answers one of
			// them but with probability 3*(2/3)^40, about 3e-7.
			for range 40 {
				r := get(t, k.host, fmt.Sprintf("/?user=u%d", u))
				if r.echo == nil {
					t.Fatalf("%s: user u%d: %s", k.name, u, serviceOf(r))
				}
				pods[r.echo.Pod] = true
			}
			if len(pods) != 3 {
				t.Fatalf("%s: user u%d reached %v, want 3 pods", k.name, u, pods)
			}
			subsets[strings.Join(slices.Sorted(maps.Keys(pods)), ",")] = true
		}
		// Two subsets of the 6 pods: the users' sets are disjoint.
		seen := map[string]bool{}
		for s := range subsets {
			for _, p := range strings.Split(s, ",") {
				if seen[p] {
					t.Errorf("%s: pod %s in two subsets: %v", k.name, p, subsets)
				}
				seen[p] = true
			}
		}
		if len(subsets) != 2 {
			t.Errorf("%s: 8 users reached the subsets %v, want the 2 of 6 pods", k.name, subsets)
		}
	}
	checkKinds(t, kinds)
}
