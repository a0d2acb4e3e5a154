package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// The ConfigMap's client limits on the real stack: the header buffers
// answer as nginx does (a request line longer than a large buffer 414, a
// longer header field 400, nginx's "Request Header Or Cookie Too Large"),
// headers with underscores reach backends only with
// enable-underscores-in-headers, a header with an invalid name is dropped
// unless ignore-invalid-headers is false (then 400), and use-http2 false
// leaves HTTP/2 out of ALPN.
func TestConfigMapClientLimits(t *testing.T) {
	ns := namespace(t, "limits")
	a := newApp(t, ns, "a", 1, "")
	const host = "limits.example.com"
	createIngress(t, newIngress(ns, "limits", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	addr := fmt.Sprintf("127.0.0.1:%d", env.portico.httpPort)
	// sawHeader reports whether the backend got header name (any case).
	sawHeader := func(headers []string, name string) (int, bool, error) {
		resp, body, err := rawGet(addr, host, "/", headers...)
		if err != nil {
			return 0, false, err
		}
		if resp.StatusCode != 200 {
			return resp.StatusCode, false, nil
		}
		var e echo.Response
		if err := json.Unmarshal(body, &e); err != nil {
			return 200, false, err
		}
		for k := range e.Headers {
			if strings.EqualFold(k, name) {
				return 200, true, nil
			}
		}
		return 200, false, nil
	}
	status := func(path string, headers ...string) int {
		t.Helper()
		resp, _, err := rawGet(addr, host, path, headers...)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	long := "/" + strings.Repeat("p", 1500)
	bigHeader := "X-Big: " + strings.Repeat("h", 1500)

	// Defaults: 4 8k buffers take both; underscores and invalid names are
	// dropped; HTTP/2 is offered.
	if got := status(long, bigHeader); got != 200 {
		t.Errorf("default buffers: %d for a 1.5k line and header", got)
	}
	if code, saw, err := sawHeader([]string{"X_Under: 1"}, "X_Under"); err != nil || code != 200 || saw {
		t.Errorf("default: X_Under %d seen %v (%v); nginx drops it", code, saw, err)
	}
	if code, saw, err := sawHeader([]string{"X@Bad: 1"}, "X@Bad"); err != nil || code != 200 || saw {
		t.Errorf("default: X@Bad %d seen %v (%v); nginx drops it", code, saw, err)
	}
	if _, proto, err := handshake(host); err != nil || proto != "h2" {
		t.Errorf("default ALPN %q (%v), want h2", proto, err)
	}

	putConfigMap(t, map[string]string{"large-client-header-buffers": "2 1k", "enable-underscores-in-headers": "true", "use-http2": "false"})
	// Every check of the new config waits for it: just after a reload, a
	// connection may still reach an old worker.
	eventually(t, "the buffers' limits", func() error {
		if got := status(long); got != 414 {
			return fmt.Errorf("a 1.5k request line: %d, want 414", got)
		}
		if got := status("/", bigHeader); got != 400 {
			return fmt.Errorf("a 1.5k header: %d, want 400", got)
		}
		if _, proto, err := handshake(host); err != nil || proto != "http/1.1" {
			return fmt.Errorf("use-http2 false: ALPN %q (%v), want http/1.1", proto, err)
		}
		return nil
	})
	if got := status("/"+strings.Repeat("p", 900), "X-Fits: "+strings.Repeat("h", 900)); got != 200 {
		t.Errorf("a 0.9k line and header: %d, want 200", got)
	}
	eventually(t, "enable-underscores-in-headers", func() error {
		if code, saw, err := sawHeader([]string{"X_Under: 1"}, "X_Under"); err != nil || code != 200 || !saw {
			return fmt.Errorf("X_Under %d seen %v (%v)", code, saw, err)
		}
		return nil
	})

	putConfigMap(t, map[string]string{"ignore-invalid-headers": "false"})
	eventually(t, "invalid header names refused", func() error {
		if code, _, err := sawHeader([]string{"X@Bad: 1"}, "X@Bad"); err != nil || code != 400 {
			return fmt.Errorf("X@Bad: %d (%v), want 400", code, err)
		}
		return nil
	})
}
