package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// getWith sends GET path with extra headers; it returns the answer and the
// response's Set-Cookie header.
func getWith(t *testing.T, host, path string, header map[string]string) (response, string) {
	t.Helper()
	r, err := send(http.MethodGet, host, path, header, "")
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	return response{code: r.code, body: r.body, echo: r.echo}, r.header.Get("Set-Cookie")
}

// serviceOf is the echo service that answered, or the status and body.
func serviceOf(r response) string {
	if r.echo == nil {
		return fmt.Sprintf("%d %s", r.code, short(r.body))
	}
	return r.echo.Service
}

func updateAnnotations(t *testing.T, ns, name string, set map[string]string) {
	t.Helper()
	ings := env.client.NetworkingV1().Ingresses(ns)
	// The controller writes the status meanwhile: retry on a conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := ings.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for k, v := range set {
			if v == "" {
				delete(ing.Annotations, k)
			} else {
				ing.Annotations[k] = v
			}
		}
		_, err = ings.Update(context.Background(), ing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A canary Ingress splits its main Ingress's traffic by header, cookie and
// weight; weight and header changes are Lua pushes, never reloads.
func TestCanary(t *testing.T) {
	const host = "canary.example.com"
	ns := namespace(t, "canary")
	stable := newApp(t, ns, "stable", 1, "")
	newApp(t, ns, "preview", 1, "")
	createIngress(t, newIngress(ns, "main", nil, hostRule(host, prefixPath("/", "stable"))))
	createIngress(t, newIngress(ns, "preview", map[string]string{
		ann + "canary": "true", ann + "canary-weight": "20",
		ann + "canary-by-header": "X-Canary", ann + "canary-by-cookie": "beta",
	}, hostRule(host, prefixPath("/", "preview")), hostRule("nomain.example.com", prefixPath("/", "preview"))))
	servedBy(t, host, "/", stable)
	eventually(t, "X-Canary: always reaches the canary", func() error {
		if r, _ := getWith(t, host, "/", map[string]string{"X-Canary": "always"}); serviceOf(r) != "preview" {
			return fmt.Errorf("answered by %s", serviceOf(r))
		}
		return nil
	})
	for _, tc := range []struct {
		header map[string]string
		want   string
	}{
		{map[string]string{"X-Canary": "always"}, "preview"},
		{map[string]string{"X-Canary": "never"}, "stable"},
		{map[string]string{"Cookie": "beta=always"}, "preview"},
		{map[string]string{"Cookie": "beta=never"}, "stable"},
		{map[string]string{"X-Canary": "never", "Cookie": "beta=always"}, "stable"},
		{map[string]string{"X-Canary": "always", "Cookie": "beta=never"}, "preview"},
	} {
		for range 10 {
			if r, _ := getWith(t, host, "/", tc.header); serviceOf(r) != tc.want {
				t.Fatalf("%v answered by %s, want %s", tc.header, serviceOf(r), tc.want)
			}
		}
	}
	// Weight 20: the canary's share of n requests is Binomial(n, 0.2).
	const n = 400
	hits := 0
	for range n {
		r := get(t, host, "/")
		switch serviceOf(r) {
		case "preview":
			hits++
		case "stable":
		default:
			t.Fatalf("answered by %s", serviceOf(r))
		}
	}
	mean, sigma := n*0.2, math.Sqrt(n*0.2*0.8)
	if math.Abs(float64(hits)-mean) > 4*sigma {
		t.Errorf("canary took %d of %d requests, want %.0f ± %.0f", hits, n, mean, 4*sigma)
	}
	t.Logf("canary share at weight 20: %d of %d", hits, n)
	eventually(t, "Warning Event for the canary rule without a main Ingress", func() error {
		evs, err := warningEvents(ns, "preview")
		if err == nil && !strings.Contains(strings.Join(evs, "\n"), "CanaryWithoutMain") {
			err = fmt.Errorf("events %v", evs)
		}
		return err
	})

	before := mustStatus(t).Nginx.Reloads
	updateAnnotations(t, ns, "preview", map[string]string{ann + "canary-weight": "100"})
	eventually(t, "weight 100 sends everything to the canary", func() error {
		for range 20 {
			if r := get(t, host, "/"); serviceOf(r) != "preview" {
				return fmt.Errorf("answered by %s", serviceOf(r))
			}
		}
		return nil
	})
	updateAnnotations(t, ns, "preview", map[string]string{ann + "canary-weight": "0", ann + "canary-by-header-value": "v2"})
	eventually(t, "header value v2 decides; weight 0", func() error {
		if r, _ := getWith(t, host, "/", map[string]string{"X-Canary": "v2"}); serviceOf(r) != "preview" {
			return fmt.Errorf("X-Canary: v2 answered by %s", serviceOf(r))
		}
		for range 10 {
			if r, _ := getWith(t, host, "/", map[string]string{"X-Canary": "always"}); serviceOf(r) != "stable" {
				return fmt.Errorf("X-Canary: always (not special with a value) answered by %s", serviceOf(r))
			}
		}
		return nil
	})
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("canary weight and header changes reloaded nginx %d times; they are pushes", after-before)
	}
}

// limit-rps answers 503 beyond rate+burst; allowlisted clients are exempt.
func TestRateLimitRPS(t *testing.T) {
	ns := namespace(t, "rps")
	a := newApp(t, ns, "web", 1, "")
	createIngress(t, newIngress(ns, "limited", map[string]string{ann + "limit-rps": "1", ann + "limit-burst-multiplier": "2"},
		hostRule("rps.example.com", prefixPath("/", "web"))))
	createIngress(t, newIngress(ns, "exempt", map[string]string{ann + "limit-rps": "1", ann + "limit-allowlist": "10.0.0.0/8, 127.0.0.1"},
		hostRule("rps-exempt.example.com", prefixPath("/", "web"))))
	servedBy(t, "rps-exempt.example.com", "/", a)
	// Let the bucket refill after servedBy's probes.
	var codes []int
	eventually(t, "a burst of 12 requests is limited", func() error {
		time.Sleep(3 * time.Second)
		codes = codes[:0]
		for range 12 {
			codes = append(codes, get(t, "rps.example.com", "/").code)
		}
		ok, limited := 0, 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 503:
				limited++
			}
		}
		// rate 1 r/s, burst 2: three at once, maybe one more as time passes.
		if codes[0] != 200 || ok < 3 || ok > 5 || ok+limited != 12 {
			return fmt.Errorf("codes %v", codes)
		}
		return nil
	})
	for range 12 {
		if r := get(t, "rps-exempt.example.com", "/"); r.code != 200 {
			t.Fatalf("allowlisted client got %d", r.code)
		}
	}
	// The Lua router serves both hosts; nginx applies the limits in the
	// router location of "1 r/s, burst 2", in a zone shared per rate. A
	// third Ingress with that rate needs no reload and counts apart.
	routedInLua(t, "rps.example.com", "rps-exempt.example.com")
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "limited2", map[string]string{ann + "limit-rps": "1", ann + "limit-burst-multiplier": "2"},
		hostRule("rps2.example.com", prefixPath("/", "web"))))
	servedBy(t, "rps2.example.com", "/", a)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an Ingress with a rate in use reloaded nginx %d times; want 0", after-before)
	}
	time.Sleep(3 * time.Second) // both buckets full again
	limited := 0
	for range 6 {
		if get(t, "rps.example.com", "/").code == 503 {
			limited++
		}
	}
	if r := get(t, "rps2.example.com", "/"); limited == 0 || r.code != 200 {
		t.Errorf("rps.example.com limited %d of 6; then rps2.example.com answered %d, want 200 (a bucket of its own)", limited, r.code)
	}

	// The ConfigMap's limit-req-status-code replaces 503.
	ctx := context.Background()
	if _, err := env.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: configMapNamespace}},
		metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	cms := env.client.CoreV1().ConfigMaps(configMapNamespace)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName},
		Data: map[string]string{"limit-req-status-code": "429"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cms.Delete(ctx, configMapName, metav1.DeleteOptions{}) })
	eventually(t, "limited requests answer 429", func() error {
		for range 6 {
			if r := get(t, "rps.example.com", "/"); r.code == 429 {
				return nil
			}
		}
		return fmt.Errorf("no 429 in a burst of 6")
	})
}

// Seed 000, "Rate Limiting으로 DDoS 방어": limit-connections 5, limit-rpm
// 60 and limit-rps 10 on one Ingress. The Lua router serves the host and
// nginx applies all three in the router location of these limits.
func TestSeedRateLimiting(t *testing.T) {
	ns := namespace(t, "ddos")
	a := newApp(t, ns, "my-app-v2", 1, "")
	const host = "ddos.example.com"
	createIngress(t, newIngress(ns, "ddos", map[string]string{ann + "limit-connections": "5", ann + "limit-rpm": "60", ann + "limit-rps": "10"},
		hostRule(host, prefixPath("/", a.name))))
	servedBy(t, host, "/", a)
	routedInLua(t, host)
	conf := runningConf(t)
	for _, d := range []string{"limit_req zone=portico_rps_10 burst=50 nodelay;", "limit_req zone=portico_rpm_60 burst=300 nodelay;", "limit_conn portico_conn 5;"} {
		if !strings.Contains(conf, d) {
			t.Errorf("nginx.conf lacks %q", d)
		}
	}

	// Six at once: five connections pass, the sixth is refused.
	time.Sleep(2 * time.Second)
	codes := make([]int, 6)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := tryGet(host, "/__sleep/1500"); err == nil {
				codes[i] = r.code
			}
		}()
	}
	wg.Wait()
	slices.Sort(codes)
	if !slices.Equal(codes, []int{200, 200, 200, 200, 200, 503}) {
		t.Errorf("six concurrent slow requests answered %v, want five 200 and one 503", codes)
	}

	// A burst: 10 r/s with a burst of 50 lets about 51 through at once.
	time.Sleep(6 * time.Second) // the rps bucket refills
	ok, limited := 0, 0
	start := time.Now()
	for range 80 {
		switch get(t, host, "/").code {
		case 200:
			ok++
		case 503:
			limited++
		}
	}
	refill := int(time.Since(start).Seconds()*10) + 1
	if ok < 51 || ok > 51+refill || ok+limited != 80 {
		t.Errorf("a burst of 80: %d passed, %d limited; want 51 (+%d refilled) and the rest 503", ok, limited, refill)
	}
}

// limit-connections caps concurrent requests of one client.
func TestLimitConnections(t *testing.T) {
	ns := namespace(t, "conn")
	a := newApp(t, ns, "web", 1, "")
	const host = "conn.example.com"
	createIngress(t, newIngress(ns, "limited", map[string]string{ann + "limit-connections": "1"}, hostRule(host, prefixPath("/", "web"))))
	servedBy(t, host, "/", a)
	var wg sync.WaitGroup
	var slow response
	wg.Add(1)
	go func() {
		defer wg.Done()
		slow, _ = tryGet(host, "/__sleep/1500")
	}()
	time.Sleep(400 * time.Millisecond)
	if r := get(t, host, "/"); r.code != 503 {
		t.Errorf("second concurrent request answered %d, want 503", r.code)
	}
	wg.Wait()
	if slow.code != 200 {
		t.Errorf("slow request answered %d %s", slow.code, short(slow.body))
	}
	if r := get(t, host, "/"); r.code != 200 {
		t.Errorf("request after the slow one answered %d", r.code)
	}
	routedInLua(t, host)
}

// Source ranges: the test client is 127.0.0.1.
func TestSourceRanges(t *testing.T) {
	ns := namespace(t, "src")
	a := newApp(t, ns, "web", 1, "")
	for _, tc := range []struct {
		name string
		ann  map[string]string
		code int
	}{
		{"other-net", map[string]string{ann + "whitelist-source-range": "10.0.0.0/8"}, 403},
		{"loopback", map[string]string{ann + "allowlist-source-range": "10.0.0.0/8,127.0.0.1/32"}, 200},
		{"denied", map[string]string{ann + "allowlist-source-range": "127.0.0.0/8", ann + "denylist-source-range": "127.0.0.1"}, 403},
		{"deny-other", map[string]string{ann + "denylist-source-range": "192.0.2.0/24,2001:db8::/32"}, 200},
	} {
		createIngress(t, newIngress(ns, tc.name, tc.ann, hostRule(tc.name+".src.example.com", prefixPath("/", "web"))))
	}
	servedBy(t, "loopback.src.example.com", "/", a)
	servedBy(t, "deny-other.src.example.com", "/", a)
	answers(t, "other-net.src.example.com", "/", 403)
	answers(t, "denied.src.example.com", "/", 403)
	// The Lua router applies them.
	routedInLua(t, "other-net.src.example.com", "loopback.src.example.com", "denied.src.example.com", "deny-other.src.example.com")
}

// Cookie affinity keeps a client on one pod while it exists. When the pod
// goes, as in ingress-nginx: in balanced mode (the default) the cookie's
// key maps to another pod on the ring and the cookie stays; in persistent
// mode the client gets another pod and a new cookie.
func TestStickyCookie(t *testing.T) {
	ns := namespace(t, "sticky")
	for _, mode := range []string{"balanced", "persistent"} {
		a := newApp(t, ns, "web-"+mode, 3, "")
		host := mode + ".sticky.example.com"
		createIngress(t, newIngress(ns, "web-"+mode, map[string]string{ann + "affinity": "cookie", ann + "session-cookie-name": "route",
			ann + "affinity-mode": mode, ann + "session-cookie-samesite": "Lax", ann + "session-cookie-domain": "example.com",
			ann + "session-cookie-secure": "true"}, hostRule(host, prefixPath("/", a.name))))
		servedBy(t, host, "/", a)
		var first response
		var cookie string
		eventually(t, mode+": a route cookie is set", func() error {
			first, cookie = getWith(t, host, "/", nil)
			// Secure on plain HTTP too: session-cookie-secure.
			if first.echo == nil || !strings.HasPrefix(cookie, "route=") || !strings.Contains(cookie, "SameSite=Lax") ||
				!strings.Contains(cookie, "; Domain=example.com") || !strings.Contains(cookie, "; Secure") {
				return fmt.Errorf("answer %s, Set-Cookie %q", serviceOf(first), cookie)
			}
			return nil
		})
		pair := strings.SplitN(cookie, ";", 2)[0]
		stuck := first.echo.Pod
		for range 20 {
			r, again := getWith(t, host, "/", map[string]string{"Cookie": pair})
			if r.echo == nil || r.echo.Pod != stuck || again != "" {
				t.Fatalf("%s: with cookie: %s pod %v (want %s), Set-Cookie %q", mode, serviceOf(r), r.echo, stuck, again)
			}
		}
		// Without the cookie, requests spread: stickiness is the cookie's doing.
		if seen := podsAnswering(t, host, "/", 9); len(seen) < 2 {
			t.Errorf("%s: without a cookie only %v answered", mode, seen)
		}

		var kept []*pod
		for _, p := range a.pods {
			if p.name != stuck {
				kept = append(kept, p)
			}
		}
		a.pods = kept
		a.syncSlice(t, "")
		eventually(t, mode+": the old cookie gets another pod and stays there", func() error {
			r, again := getWith(t, host, "/", map[string]string{"Cookie": pair})
			if r.echo == nil || r.echo.Pod == stuck {
				return fmt.Errorf("%s, Set-Cookie %q", serviceOf(r), again)
			}
			newPair := pair
			if mode == "persistent" {
				if !strings.HasPrefix(again, "route=") || strings.HasPrefix(again, pair+";") {
					return fmt.Errorf("persistent: Set-Cookie %q, want a new cookie", again)
				}
				newPair = strings.SplitN(again, ";", 2)[0]
			} else if again != "" {
				return fmt.Errorf("balanced: Set-Cookie %q, want the cookie kept", again)
			}
			for range 10 {
				r2, _ := getWith(t, host, "/", map[string]string{"Cookie": newPair})
				if r2.echo == nil || r2.echo.Pod != r.echo.Pod {
					return fmt.Errorf("the cookie moved from %s to %s", r.echo.Pod, serviceOf(r2))
				}
			}
			return nil
		})
	}
}

// upstream-hash-by $arg_user keeps each user on one pod.
func TestUpstreamHashBy(t *testing.T) {
	ns := namespace(t, "hash")
	a := newApp(t, ns, "web", 3, "")
	const host = "hash.example.com"
	createIngress(t, newIngress(ns, "web", map[string]string{ann + "upstream-hash-by": "$arg_user"}, hostRule(host, prefixPath("/", "web"))))
	servedBy(t, host, "/", a)
	eventually(t, "users stick to pods", func() error {
		pods := map[string]bool{}
		for u := range 10 {
			path := fmt.Sprintf("/?user=u%d", u)
			owner := get(t, host, path)
			if owner.echo == nil {
				return fmt.Errorf("%s", serviceOf(owner))
			}
			pods[owner.echo.Pod] = true
			for range 5 {
				if r := get(t, host, path); r.echo == nil || r.echo.Pod != owner.echo.Pod {
					return fmt.Errorf("user u%d moved from %s to %s", u, owner.echo.Pod, serviceOf(r))
				}
			}
		}
		if len(pods) < 2 {
			return fmt.Errorf("10 users all hashed to %v", pods)
		}
		return nil
	})
}

// The affinity cookie's Path is the Ingress path of the location that
// sets it, as in ingress-nginx, unless session-cookie-path names one; on
// routed and server-block hosts.
func TestStickyCookiePath(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "stickypath")
	newApp(t, ns, "web", 2, "")
	for _, kind := range servingKinds {
		t.Run(kind.name, func(t *testing.T) {
			host := "sticky-" + kind.name + ".example.com"
			createIngress(t, newIngress(ns, "shop-"+kind.name, kind.anns(ann+"affinity", "cookie"),
				hostRule(host, prefixPath("/shop", "web"), prefixPath("/", "web"))))
			createIngress(t, newIngress(ns, "fixed-"+kind.name, map[string]string{ann + "affinity": "cookie", ann + "session-cookie-path": "/"},
				hostRule(host, prefixPath("/fixed", "web"))))
			for path, want := range map[string]string{"/shop/cart": "; Path=/shop;", "/shop": "; Path=/shop;", "/other": "; Path=/;", "/fixed/x": "; Path=/;"} {
				eventually(t, "the cookie of "+path, func() error {
					r, cookie := getWith(t, host, path, nil)
					if r.echo == nil || !strings.HasPrefix(cookie, "INGRESSCOOKIE=") || !strings.Contains(cookie, want) {
						return fmt.Errorf("answer %s, Set-Cookie %q, want %q", serviceOf(r), cookie, want)
					}
					return nil
				})
			}
		})
	}
}
