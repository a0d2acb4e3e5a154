package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// proxy-connect-timeout, proxy-send-timeout and proxy-read-timeout, as
// ingress-nginx has them, on a routed and a static host: each answers
// 504 after about its own second where the defaults (5 s to connect, 60 s
// to send and read) would still wait, and the hosts' loaded configuration
// carries the values.
//   - connect: the backend's host drops what it sends (Blackhole), so its
//     SYN-ACK never comes back;
//   - send: the backend sleeps before it reads an 8 MB body, so nginx's
//     writes stall once the sockets' buffers are full;
//   - read: the backend answers after 2 s.
//
// A host without the annotations gets the body and the late answer (200).
func TestAnnotationsUpstreamTimeouts(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "timeouts")
	a := newApp(t, ns, "a", 1, "")
	// nginx never reaches it before it goes dark: a kept connection would
	// time out reading instead.
	dark := newApp(t, ns, "dark", 1, "")
	if err := dark.pods[0].host.Blackhole(); err != nil {
		t.Fatal(err)
	}
	domain := ns + ".example.com"
	kinds := hostKinds(domain)
	// One try, so an answer comes after one timeout (ingress-nginx's
	// default of 3 tries would try the one endpoint thrice).
	timeouts := map[string]string{"proxy-connect-timeout": "1", "proxy-send-timeout": "1s", "proxy-read-timeout": "1", "proxy-body-size": "16m",
		"proxy-next-upstream-tries": "1"}
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name, k.annotations(timeouts), hostRule(k.host, prefixPath("/", "a"), prefixPath("/dark", "dark"))))
	}
	plain := "plain." + domain
	createIngress(t, newIngress(ns, "plain", map[string]string{ann + "proxy-body-size": "16m"}, hostRule(plain, prefixPath("/", "a"))))
	for _, k := range kinds {
		servedBy(t, k.host, "/", a)
	}
	servedBy(t, plain, "/", a)
	checkKinds(t, kinds)
	loads(t, kinds, "proxy_connect_timeout 1s;", "proxy_send_timeout 1s;", "proxy_read_timeout 1s;")

	// timed sends one request and returns its answer and how long it took.
	timed := func(host, method, path, body string) (reply, time.Duration) {
		t.Helper()
		start := time.Now()
		r, err := send(method, host, path, nil, body)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s %s%s: %v", method, host, path, err)
		}
		return r, took
	}
	big := strings.Repeat("x", 8<<20)
	for _, k := range kinds {
		if r, took := timed(k.host, "GET", "/dark", ""); r.code != 504 || took < 900*time.Millisecond || took > 3*time.Second {
			t.Errorf("%s: connect to a backend that never answers: %d after %v, want 504 after about 1 s (the default waits 5 s)", k.name, r.code, took)
		}
		if r, took := timed(k.host, "POST", "/__sleep/4000", big); r.code != 504 || took > 3500*time.Millisecond {
			t.Errorf("%s: 8 MB to a backend that reads it after 4 s: %d %s after %v, want 504 within about 1 s of nginx's writes stalling", k.name, r.code, short(r.body), took)
		}
		if r, took := timed(k.host, "GET", "/__sleep/2000", ""); r.code != 504 || took < 900*time.Millisecond || took > 1900*time.Millisecond {
			t.Errorf("%s: a backend answering after 2 s: %d after %v, want 504 after about 1 s", k.name, r.code, took)
		}
		if r, _ := timed(k.host, "GET", "/", ""); r.code != 200 || r.echo == nil || r.echo.Service != a.name {
			t.Errorf("%s: a prompt backend: %d %s", k.name, r.code, short(r.body))
		}
	}
	if r, _ := timed(plain, "POST", "/__sleep/4000", big); r.code != 200 || r.echo == nil || r.echo.BodyBytes != int64(len(big)) {
		t.Errorf("without proxy-send-timeout, 8 MB to a backend that reads it after 4 s: %d %s, want 200 with the whole body", r.code, short(r.body))
	}
	if r, _ := timed(plain, "GET", "/__sleep/2000", ""); r.code != 200 {
		t.Errorf("without proxy-read-timeout, a backend answering after 2 s: %d, want 200", r.code)
	}
	if conf := runningConf(t); !strings.Contains(conf, fmt.Sprintf("proxy_connect_timeout %ds;", 5)) {
		t.Error("nginx.conf's http level has no proxy_connect_timeout 5s (ingress-nginx's default)")
	}
}
