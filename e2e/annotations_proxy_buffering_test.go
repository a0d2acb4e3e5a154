package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// proxy-buffering, as ingress-nginx has it, on routed and static hosts: a
// backend that writes a line every 100 ms for 2 s reaches the client line
// by line with "off" (the first line long before the backend is done),
// and all at once with "on" (nginx keeps the answer until the backend is
// done); the hosts' loaded configuration says which.
func TestAnnotationsProxyBuffering(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "buffering")
	a := newApp(t, ns, "a", 1, "")
	const lines = 20 // 1.9 s
	for _, mode := range []string{"on", "off"} {
		kinds := hostKinds(mode + "." + ns + ".example.com")
		for _, k := range kinds {
			createIngress(t, newIngress(ns, mode+"-"+k.name, k.annotations(map[string]string{"proxy-buffering": mode}), hostRule(k.host, prefixPath("/", "a"))))
		}
		for _, k := range kinds {
			servedBy(t, k.host, "/", a)
		}
		checkKinds(t, kinds)
		loads(t, kinds, "proxy_buffering "+mode+";")
		for _, k := range kinds {
			first, all, body := slowAnswer(t, k.host, lines)
			if body != echo.SlowBody(lines) {
				t.Errorf("%s %s: body %q, want the backend's %d lines", mode, k.name, short(body), lines)
			}
			streamed := first < all-time.Second
			if streamed != (mode == "off") {
				t.Errorf("proxy-buffering %s, %s host: first line after %v, the whole answer after %v; want the first line %s", mode, k.name, first, all,
					map[string]string{"on": "with the last (buffered)", "off": "a second or more before the last (streamed)"}[mode])
			}
		}
	}
}

// slowAnswer GETs /__slow/<lines> of host and returns when its first line
// and its whole body arrived, and the body.
func slowAnswer(t *testing.T, host string, lines int) (first, all time.Duration, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/__slow/%d", env.portico.httpPort, lines), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	start := time.Now()
	resp, err := noProxyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %d, first line: %v", host, resp.StatusCode, err)
	}
	first = time.Since(start)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("%s: %v", host, err)
	}
	return first, time.Since(start), line + string(rest)
}
