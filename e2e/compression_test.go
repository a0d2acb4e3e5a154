package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// configMapWarning waits for Warning Events on the controller's ConfigMap
// that hold each of wants.
func configMapWarning(t *testing.T, wants ...string) {
	t.Helper()
	eventually(t, "Warning Events on the ConfigMap", func() error {
		list, err := env.client.CoreV1().Events(configMapNamespace).List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.Set{"involvedObject.kind": "ConfigMap", "involvedObject.name": configMapName, "type": corev1.EventTypeWarning}.String()})
		if err != nil {
			return err
		}
		var all []string
		for _, e := range list.Items {
			all = append(all, e.Reason+": "+e.Message)
		}
		for _, w := range wants {
			if !strings.Contains(strings.Join(all, "\n"), w) {
				return fmt.Errorf("no event %q in:\n%s", w, strings.Join(all, "\n"))
			}
		}
		return nil
	})
}

// getRaw sends GET path with hdr to Portico's HTTP port and returns the
// answer as it came, not decoded (send parses an echo body).
func getRaw(host, path string, hdr map[string]string) (reply, error) {
	return sendRaw(http.MethodGet, host, path, hdr, "", false)
}

// expectRaw is expect with getRaw.
func expectRaw(t *testing.T, what, host, path string, hdr map[string]string, check func(reply) error) reply {
	t.Helper()
	var last reply
	eventually(t, what, func() error {
		r, err := getRaw(host, path, hdr)
		if err != nil {
			return err
		}
		last = r
		if err := check(r); err != nil {
			return fmt.Errorf("%v (got %d %s)", err, r.code, r.header)
		}
		return nil
	})
	return last
}

// decoded is the body of r as the client reads it: gunzipped or
// un-Brotli'd (the brotli command) by its Content-Encoding.
func decoded(r reply) ([]byte, error) {
	switch enc := r.header.Get("Content-Encoding"); enc {
	case "":
		return []byte(r.body), nil
	case "gzip":
		zr, err := gzip.NewReader(strings.NewReader(r.body))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case "br":
		cmd := exec.Command("brotli", "--decompress", "--stdout")
		cmd.Stdin = strings.NewReader(r.body)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("brotli -d: %v: %s", err, errOut.String())
		}
		return out.Bytes(), nil
	default:
		return nil, fmt.Errorf("Content-Encoding %q", enc)
	}
}

// encoded checks that r came from a, compressed with enc ("" for not),
// with Vary: Accept-Encoding when compressed, and that its body decodes
// to the echo answer, or to want bytes of "x" for want > 0.
func encoded(a *app, enc string, want int) func(reply) error {
	return func(r reply) error {
		if r.code != 200 {
			return fmt.Errorf("want 200 from %s", a.name)
		}
		if got := r.header.Get("Content-Encoding"); got != enc {
			return fmt.Errorf("Content-Encoding %q, want %q", got, enc)
		}
		if enc != "" && !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") {
			return fmt.Errorf("compressed without Vary: Accept-Encoding (Vary %q)", r.header.Get("Vary"))
		}
		body, err := decoded(r)
		if err != nil {
			return err
		}
		if want > 0 {
			if string(body) != strings.Repeat("x", want) {
				return fmt.Errorf("decoded body is %d bytes, not %d x", len(body), want)
			}
			return nil
		}
		var e echo.Response
		if err := json.Unmarshal(body, &e); err != nil || e.Service != a.name {
			return fmt.Errorf("decoded body is not %s's echo: %v", a.name, err)
		}
		return nil
	}
}

// use-gzip and enable-brotli compress answers for clients that take them,
// with the levels, lengths, types and user agents the ConfigMap says, and
// are applied without restarting nginx; a bad value is refused alone with
// a Warning Event and the last good one kept.
func TestConfigMapCompression(t *testing.T) {
	ns := namespace(t, "compress")
	a := newApp(t, ns, "a", 1, "")
	const host = "compress.example.com"
	createIngress(t, newIngress(ns, "compress", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	gz := map[string]string{"Accept-Encoding": "gzip"}
	br := map[string]string{"Accept-Encoding": "br"}
	both := map[string]string{"Accept-Encoding": "gzip, deflate, br"}
	// Off by default, as in ingress-nginx.
	expectRaw(t, "no compression by default", host, "/", gz, encoded(a, "", 0))
	restarts := mustStatus(t).Nginx.Restarts

	putConfigMap(t, map[string]string{"use-gzip": "true", "gzip-level": "6", "gzip-min-length": "100",
		"gzip-types": "application/json application/octet-stream", "gzip-disable": "msie6"})
	expectRaw(t, "gzip'd JSON", host, "/", gz, encoded(a, "gzip", 0))
	expectRaw(t, "not compressed without Accept-Encoding", host, "/", nil, encoded(a, "", 0))
	expectRaw(t, "below gzip-min-length", host, "/__bytes/99", gz, encoded(a, "", 99))
	expectRaw(t, "at gzip-min-length", host, "/__bytes/100", gz, encoded(a, "gzip", 100))
	msie := map[string]string{"Accept-Encoding": "gzip", "User-Agent": "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"}
	expectRaw(t, "gzip-disable msie6", host, "/", msie, encoded(a, "", 0))
	expectRaw(t, "Brotli is off", host, "/", br, encoded(a, "", 0))

	// Brotli alone, for JSON only: it says Vary too.
	putConfigMap(t, map[string]string{"enable-brotli": "true", "brotli-level": "5", "brotli-min-length": "30",
		"brotli-types": "application/json"})
	expectRaw(t, "Brotli'd JSON", host, "/", br, encoded(a, "br", 0))
	expectRaw(t, "no gzip with Brotli alone", host, "/", gz, encoded(a, "", 0))
	expectRaw(t, "brotli-types leaves octet-stream out", host, "/__bytes/5000", br, encoded(a, "", 5000))

	// Both: gzip for JSON only, Brotli preferred where the client takes it.
	putConfigMap(t, map[string]string{"use-gzip": "true", "gzip-types": "application/json", "enable-brotli": "true",
		"brotli-level": "5", "brotli-min-length": "30", "brotli-types": "application/json"})
	expectRaw(t, "gzip-types leaves octet-stream out", host, "/__bytes/5000", gz, encoded(a, "", 5000))
	expectRaw(t, "gzip for gzip-only clients", host, "/", gz, encoded(a, "gzip", 0))
	expectRaw(t, "Brotli preferred to gzip", host, "/", both, encoded(a, "br", 0))

	// A bad level is refused; the last good one (and the rest) stay.
	putConfigMap(t, map[string]string{"use-gzip": "true", "gzip-types": "application/json", "enable-brotli": "true",
		"brotli-level": "12", "brotli-min-length": "30", "brotli-types": "application/json"})
	configMapWarning(t, `InvalidOption: data[brotli-level]: invalid value "12"`, `the last good value "5" is kept`)
	expectRaw(t, "Brotli'd JSON after a bad level", host, "/", br, encoded(a, "br", 0))
	if !strings.Contains(runningConf(t), "\n    brotli_comp_level 5;\n") {
		t.Error("nginx does not run brotli_comp_level 5, the last good value")
	}
	if got := mustStatus(t).Nginx.Restarts; got != restarts {
		t.Errorf("nginx restarted %d times; ConfigMap changes reload it", got-restarts)
	}
}
