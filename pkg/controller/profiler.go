package controller

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/zap"
)

// serveProfiler serves Go's /debug/pprof/ on ProfilerAddr, a listener of
// its own as in ingress-nginx (--profiling, on 127.0.0.1:10245 there by
// default), apart from the healthz port that probes and Prometheus reach.
func (c *Controller) serveProfiler() (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", c.cfg.ProfilerAddr)
	if err != nil {
		return nil, fmt.Errorf("profiler: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("profiler server", zap.Error(err))
		}
	}()
	return srv, nil
}
