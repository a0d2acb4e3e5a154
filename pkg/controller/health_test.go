package controller

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/diagnose"
	"github.com/portico-ingress/portico/pkg/model"
)

// /debug/pprof/ is served on the profiler's own address, never on the
// healthz port; the health check answers on its configured path.
func TestProfilerAndHealthCheckPath(t *testing.T) {
	free := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	healthz, prof := free(), free()
	c := &Controller{cfg: Config{HealthzPort: healthz, HealthzHost: "127.0.0.1", HealthCheckPath: "/ready",
		ProfilerAddr: fmt.Sprintf("127.0.0.1:%d", prof)}, log: zap.NewNop(), applier: &apply.Applier{Nginx: &apply.Nginx{}}}
	c.metrics = newMetrics(prometheus.NewRegistry(), c)
	srv, err := c.serveHealth()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ps, err := c.serveProfiler()
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	for _, tc := range []struct {
		port int
		path string
		want int
	}{
		{prof, "/debug/pprof/heap?debug=1", 200},
		{healthz, "/debug/pprof/heap?debug=1", 404},
		{healthz, "/ready", 503}, // no sync yet
		{healthz, "/healthz", 404},
	} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", tc.port, tc.path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("port %d %s: %d %.60q, want %d", tc.port, tc.path, resp.StatusCode, body, tc.want)
		}
	}
}

// /status leaves the model out unless asked: with 10,000 Ingresses it is
// tens of MB.
func TestStatusModelOnlyWhenAsked(t *testing.T) {
	c := &Controller{log: zap.NewNop(), applier: &apply.Applier{}}
	c.lastSync.Store(&model.Config{Servers: []*model.Server{{Host: "a.example.com"}}})
	for _, tc := range []struct {
		query string
		model bool
	}{{"", false}, {"?model=true", true}} {
		rec := httptest.NewRecorder()
		c.statusJSON(rec, httptest.NewRequest(http.MethodGet, "/status"+tc.query, nil))
		var out struct {
			Model *model.Config `json:"model"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%q: %v\n%s", tc.query, err, rec.Body.String())
		}
		if got := out.Model != nil && len(out.Model.Servers) == 1; got != tc.model {
			t.Errorf("/status%s: model present %v, want %v", tc.query, got, tc.model)
		}
	}
	// While a sync runs the last model is let go: /status says so.
	c.lastSync.Store((*model.Config)(nil))
	rec := httptest.NewRecorder()
	c.statusJSON(rec, httptest.NewRequest(http.MethodGet, "/status?model=true", nil))
	var out struct {
		Model *model.Config `json:"model"`
		Note  string        `json:"modelNote"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Model != nil || out.Note == "" {
		t.Errorf("during a sync: %v %s", err, rec.Body.String())
	}
}

// A client that is not on loopback gets /healthz and /metrics only.
func TestHealthzPortFullViewsLoopbackOnly(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	h := loopbackOnly(ok, "/healthz", "/metrics")
	for _, tc := range []struct {
		remote, path string
		code         int
	}{
		{"10.0.0.7:4000", "/healthz", 200}, {"10.0.0.7:4000", "/metrics", 200},
		{"10.0.0.7:4000", "/nginx.conf", 403}, {"10.0.0.7:4000", "/routed-hosts.conf", 403}, {"10.0.0.7:4000", "/status", 403}, {"10.0.0.7:4000", "/debug/pprof/heap", 403},
		{"10.0.0.7:4000", "//healthz/../nginx.conf", 403}, {"[fd00::7]:4000", "/status", 403},
		{"127.0.0.1:4000", "/nginx.conf", 200}, {"[::1]:4000", "/status", 200}, {"[::ffff:127.0.0.1]:4000", "/status", 200},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		req.RemoteAddr = tc.remote
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Errorf("%s from %s: %d, want %d", tc.path, tc.remote, rec.Code, tc.code)
		}
	}
}

// /status's drift, as pkg/apply reports it, reads whole as pkg/diagnose's
// Drift: the tools take every field the controller writes.
func TestStatusDriftReadsAsDiagnose(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := apply.DriftEvent{Path: "/etc/nginx/nginx.conf", At: at, Change: "edited", Line: 12, Restored: false, Error: "read-only file system"}
	written, err := json.Marshal(apply.Drift{Edits: 2, Last: &ev, Unrestored: []apply.DriftEvent{ev}})
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(written))
	dec.DisallowUnknownFields()
	var read diagnose.Drift
	if err := dec.Decode(&read); err != nil {
		t.Fatalf("diagnose.Drift does not read %s: %v", written, err)
	}
	again, err := json.Marshal(read)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, written) {
		t.Errorf("diagnose.Drift reads %s as %s", written, again)
	}
}
