package controller

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// /debug/pprof/ is served only with Profiling.
func TestProfilingOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		c := &Controller{cfg: Config{HealthzPort: port, Profiling: on}, log: zap.NewNop()}
		c.metrics = newMetrics(prometheus.NewRegistry(), c)
		srv, err := c.serveHealth()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap?debug=1", port))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if got := resp.StatusCode == http.StatusOK; got != on {
			t.Errorf("Profiling %v: /debug/pprof/heap answered %d %.60q", on, resp.StatusCode, body)
		}
	}
}
