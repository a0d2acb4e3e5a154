package apply_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-ingress/portico/pkg/plan"
)

// do sends GET path to the fixture with extra headers; it returns the
// status, body and Set-Cookie header.
func (f *fixture) do(path string, header map[string]string) (int, string, string) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", f.httpPort, path), nil)
	req.Host = "app.test"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Set-Cookie")
}

// Canary, affinity and hashing run per request in the balancer of a real
// nginx; changing the canary is a push, never a reload.
func TestTrafficPolicyInNginx(t *testing.T) {
	f := newFixture(t)
	a, b, c, v2 := backendServer(t, "a"), backendServer(t, "b"), backendServer(t, "c"), backendServer(t, "v2")
	conf, sum := f.config(map[string]string{"/canary": "main", "/sticky": "sticky", "/hash": "hash"})
	pool := []plan.Endpoint{a, b, c}
	backends := func(weight int) []plan.Backend {
		return []plan.Backend{
			{Name: "main", Endpoints: pool, Canary: &plan.Canary{Backend: "v2", Weight: weight, WeightTotal: 100, Header: "X-Canary", Cookie: "beta"}},
			{Name: "v2", Endpoints: []plan.Endpoint{v2}},
			{Name: "sticky", Endpoints: pool, Affinity: &plan.Affinity{Cookie: "route", Path: "/", SameSite: "Strict", Backend: "ns/sticky:80"}},
			{Name: "hash", Endpoints: pool, HashBy: "$arg_user"},
		}
	}
	f.apply(conf, sum, backends(0)...)

	for _, tc := range []struct {
		header map[string]string
		want   string
	}{
		{map[string]string{"X-Canary": "always"}, "v2"},
		{map[string]string{"X-Canary": "always", "Cookie": "beta=never"}, "v2"},
		{map[string]string{"Cookie": "beta=always"}, "v2"},
	} {
		if code, body, _ := f.do("/canary", tc.header); code != 200 || body != tc.want {
			t.Errorf("GET /canary %v = %d %q, want 200 from %s", tc.header, code, body, tc.want)
		}
	}
	for range 10 {
		if _, body, _ := f.do("/canary", nil); body == "v2" {
			t.Fatal("weight 0 sent a request to the canary")
		}
	}
	if res := f.apply(conf, sum, backends(100)...); res.Reloaded || !res.Pushed {
		t.Fatalf("weight change = %+v, want a push and no reload", res)
	}
	for range 10 {
		if _, body, _ := f.do("/canary", nil); body != "v2" {
			t.Fatalf("weight 100 answered from %q", body)
		}
		if _, body, _ := f.do("/canary", map[string]string{"X-Canary": "never"}); body == "v2" {
			t.Fatal("X-Canary: never reached the canary")
		}
	}

	_, first, cookie := f.do("/sticky", nil)
	if !strings.HasPrefix(cookie, "route=") || !strings.Contains(cookie, "; Path=/; SameSite=Strict; HttpOnly") {
		t.Fatalf("Set-Cookie = %q, want a route cookie", cookie)
	}
	pair := strings.SplitN(cookie, ";", 2)[0]
	for range 10 {
		_, body, again := f.do("/sticky", map[string]string{"Cookie": pair})
		if body != first || again != "" {
			t.Fatalf("with cookie: answered by %q (want %q), Set-Cookie %q (want none)", body, first, again)
		}
	}

	for _, user := range []string{"ann", "bob", "eve"} {
		_, owner, _ := f.do("/hash?user="+user, nil)
		for range 5 {
			if _, body, _ := f.do("/hash?user="+user, nil); body != owner {
				t.Fatalf("user %s moved from %s to %s", user, owner, body)
			}
		}
	}
}
