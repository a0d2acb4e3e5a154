package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portico-ingress/portico/e2e/framework"
)

// proxy-next-upstream, proxy-next-upstream-tries and
// proxy-next-upstream-timeout, as ingress-nginx has them, on a routed and
// a static host. A Service of two pods, one answering 502:
//   - "error timeout http_502" retries a 502 on the other pod: every
//     request is answered 200, though the failing pod saw some of them;
//   - "off" gives the client the failing pod's 502.
//
// A Service of three pods that all answer 502, with http_502: each
// request is tried proxy-next-upstream-tries times, as ingress-nginx's
// balancer does, other pods first and then the same ones again: 3 by
// default, 1 with tries 1, 5 with tries 5 (counted by what the pods saw).
// Two pods that never answer (connect timeout 1 s): 3 tries (504 after
// 3 s), with next-upstream-timeout 1 only the first (504 after 1 s).
func TestAnnotationsNextUpstream(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "nextup")
	pair := newApp(t, ns, "pair", 2, "")
	bad := newApp(t, ns, "bad", 3, "")
	dark := newApp(t, ns, "dark", 2, "")
	for _, p := range dark.pods {
		if err := p.host.Blackhole(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range append([]*pod{pair.pods[1]}, bad.pods...) {
		failWith(t, p, 502)
	}
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		for _, ing := range []struct {
			name, path, svc string
			kv              map[string]string
		}{
			{"retry", "/retry", "pair", map[string]string{"proxy-next-upstream": "error timeout http_502"}},
			{"off", "/off", "pair", map[string]string{"proxy-next-upstream": "off"}},
			{"all", "/all", "bad", map[string]string{"proxy-next-upstream": "http_502"}},
			{"once", "/once", "bad", map[string]string{"proxy-next-upstream": "http_502", "proxy-next-upstream-tries": "1"}},
			{"five", "/five", "bad", map[string]string{"proxy-next-upstream": "http_502", "proxy-next-upstream-tries": "5"}},
			{"dark", "/dark", "dark", map[string]string{"proxy-connect-timeout": "1"}},
			{"brief", "/brief", "dark", map[string]string{"proxy-connect-timeout": "1", "proxy-next-upstream-timeout": "1"}},
		} {
			createIngress(t, newIngress(ns, k.name+"-"+ing.name, k.annotations(ing.kv), hostRule(k.host, prefixPath(ing.path, ing.svc))))
		}
	}
	for _, k := range kinds {
		for _, p := range []string{"/retry", "/off", "/all", "/once", "/five", "/dark", "/brief"} {
			// Each path's Ingress served: not the 404 of a path it lacks.
			expect(t, k.host+p+" routed", "GET", k.host, p+"/ready", nil, "", func(r reply) error {
				if r.code == 404 {
					return fmt.Errorf("not routed yet")
				}
				return nil
			})
		}
	}
	checkKinds(t, kinds)
	loads(t, kinds, "proxy_next_upstream error timeout http_502;", "proxy_next_upstream off;", "proxy_next_upstream http_502;",
		"proxy_next_upstream_tries 1;", "proxy_next_upstream_tries 5;", "proxy_next_upstream_timeout 1s;")

	const n = 6
	for _, k := range kinds {
		mark := func(s string) string { return k.name + "-" + s }
		for i := range n {
			r := expect(t, k.name+": a retried 502", "GET", k.host, fmt.Sprintf("/retry?m=%s-%d", mark("retry"), i), nil, "", fromApp(pair, 200))
			if r.echo.Pod != pair.pods[0].name {
				t.Errorf("%s: answered by %s, want the pod that does not fail", k.name, r.echo.Pod)
			}
		}
		if got := seenWith(t, pair.pods[1], mark("retry")); got == 0 {
			t.Errorf("%s: the failing pod saw none of %d requests: the balancer avoided it, nothing was retried", k.name, n)
		}
		failed := 0
		for i := range n {
			r, err := send("GET", k.host, fmt.Sprintf("/off?m=%s-%d", mark("off"), i), nil, "")
			switch {
			case err != nil:
				t.Fatal(err)
			case r.code == 502 && r.echo != nil && r.echo.Pod == pair.pods[1].name:
				failed++
			case r.code != 200 || r.echo == nil || r.echo.Pod != pair.pods[0].name:
				t.Errorf("%s: proxy-next-upstream off: %d %s", k.name, r.code, short(r.body))
			}
		}
		if seen := seenWith(t, pair.pods[1], mark("off")); failed == 0 || failed != seen {
			t.Errorf("%s: proxy-next-upstream off: %d of %d requests got the failing pod's 502, which saw %d; want all it saw, at least one", k.name, failed, n, seen)
		}
		for _, tc := range []struct {
			path  string
			tries int
		}{{"/all", 3}, {"/once", 1}, {"/five", 5}} {
			for i := range n {
				if r, err := send("GET", k.host, fmt.Sprintf("%s?m=%s-%d", tc.path, mark(tc.path[1:]), i), nil, ""); err != nil || r.code != 502 || r.echo == nil {
					t.Fatalf("%s%s: %v %d %s, want a pod's 502", k.name, tc.path, err, r.code, short(r.body))
				}
			}
			got, least := 0, n
			for _, p := range bad.pods {
				c := seenWith(t, p, mark(tc.path[1:]))
				got, least = got+c, min(least, c)
			}
			if got != tc.tries*n {
				t.Errorf("%s%s: the pods saw %d requests of %d, want %d tries each", k.name, tc.path, got, n, tc.tries)
			}
			if tc.tries >= len(bad.pods) && least < n {
				t.Errorf("%s%s: a pod saw %d of %d requests, want each tried before one is tried again", k.name, tc.path, least, n)
			}
		}
		for _, tc := range []struct {
			path     string
			min, max time.Duration
		}{{"/dark", 2900 * time.Millisecond, 4500 * time.Millisecond}, {"/brief", 900 * time.Millisecond, 1900 * time.Millisecond}} {
			start := time.Now()
			r, err := send("GET", k.host, tc.path, nil, "")
			if took := time.Since(start); err != nil || r.code != 504 || took < tc.min || took > tc.max {
				t.Errorf("%s%s: two pods that never answer: %v %d after %v, want 504 after %v to %v", k.name, tc.path, err, r.code, took, tc.min, tc.max)
			}
		}
	}
}

// failWith makes the echo pod p answer code to every request it echoes
// (its /__fail), asked directly.
func failWith(t *testing.T, p *pod, code int) {
	t.Helper()
	resp, err := framework.NewHTTPClient().Post(fmt.Sprintf("http://%s/__fail/%d", p.echo.Addr(), code), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s/__fail/%d: %d", p.name, code, resp.StatusCode)
	}
}

// seenWith counts the requests the echo pod p saw whose URI has mark.
func seenWith(t *testing.T, p *pod, mark string) int {
	t.Helper()
	n := 0
	for _, r := range seen(t, p) {
		if strings.Contains(r.RequestURI, "m="+mark+"-") {
			n++
		}
	}
	return n
}
