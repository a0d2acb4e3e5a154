package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

func (c *Controller) healthCheckPath() string {
	if c.cfg.HealthCheckPath != "" {
		return c.cfg.HealthCheckPath
	}
	return "/healthz"
}

// serveHealth serves the health check (/healthz, or HealthCheckPath),
// /metrics, /status, /nginx.conf and /routed-hosts.conf on the healthz
// port; all but the health check and /metrics to loopback clients only
// (loopbackOnly).
func (c *Controller) serveHealth() (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc(c.healthCheckPath(), c.healthz)
	mux.Handle("/metrics", promhttp.HandlerFor(c.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/status", c.statusJSON)
	mux.HandleFunc("/nginx.conf", servedFile(c.applier.Nginx.Conf))
	mux.HandleFunc("/routed-hosts.conf", servedFile(c.applier.RoutedHosts))
	ln, err := net.Listen("tcp", net.JoinHostPort(c.cfg.HealthzHost, strconv.Itoa(c.cfg.HealthzPort)))
	if err != nil {
		return nil, fmt.Errorf("healthz port: %w", err)
	}
	srv := &http.Server{Handler: loopbackOnly(mux, c.healthCheckPath(), "/metrics"), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("healthz server", zap.Error(err))
		}
	}()
	return srv, nil
}

// loopbackOnly serves the public paths to any client and every other path
// to loopback clients only: the healthz port listens on all interfaces
// for the kubelet's probes and Prometheus, and a pod-network neighbour
// must not read the config, the model (hosts, Secrets' names, Services)
// or profiles. Inside the Pod (kubectl exec, port-forward) all of it is
// there, as portico diagnose and conf expect on 127.0.0.1.
func loopbackOnly(h http.Handler, public ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(public, r.URL.Path) {
			ap, err := netip.ParseAddrPort(r.RemoteAddr)
			if err != nil || !ap.Addr().Unmap().IsLoopback() {
				http.Error(w, "served to loopback clients only: inside the controller's Pod, or through kubectl port-forward", http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// healthz is 200 when a sync has completed and nginx runs it with the
// backends pushed; otherwise 503 with the reason.
func (c *Controller) healthz(w http.ResponseWriter, r *http.Request) {
	var problems []string
	if c.stopping.Load() {
		problems = append(problems, "shutting down")
	}
	if !c.synced.Load() {
		problems = append(problems, "no sync has completed yet")
	}
	if !c.applier.Nginx.Running() {
		problems = append(problems, "nginx is not running")
	} else if _, err := c.applier.Status.Checksum(r.Context()); err != nil {
		problems = append(problems, "nginx status port does not answer: "+err.Error())
	}
	if msg, _ := c.lastErr.Load().(string); msg != "" {
		// nginx still serves the last good config: report, do not fail.
		w.Header().Set("X-Portico-Last-Sync-Error", "true")
	}
	if len(problems) > 0 {
		http.Error(w, "unhealthy: "+joinProblems(problems), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func joinProblems(ps []string) string {
	out := ps[0]
	for _, p := range ps[1:] {
		out += "; " + p
	}
	return out
}

// statusJSON reports the controller's state for people and tools.
func (c *Controller) statusJSON(w http.ResponseWriter, r *http.Request) {
	lastErr, _ := c.lastErr.Load().(string)
	out := struct {
		Synced        bool   `json:"synced"`
		LastSyncError string `json:"lastSyncError,omitempty"`
		Nginx         any    `json:"nginx"`
		// Refused are the items nginx refused of the last pushes.
		Refused []plan.Refusal `json:"refused,omitempty"`
		Drift   apply.Drift    `json:"drift"`
		// DataFiles are the operator's mounted files nginx reads.
		DataFiles []apply.DataFileStatus `json:"dataFiles,omitempty"`
		Options   model.Options          `json:"options"`
		// TCPServices and UDPServices name the ConfigMaps of TCP and UDP
		// services (--tcp-services-configmap, --udp-services-configmap).
		TCPServices string        `json:"tcpServices,omitempty"`
		UDPServices string        `json:"udpServices,omitempty"`
		Model       *model.Config `json:"model,omitempty"`
		ModelNote   string        `json:"modelNote,omitempty"`
	}{Synced: c.synced.Load(), LastSyncError: lastErr, Nginx: c.applier.Stats(), Refused: c.applier.Refused(),
		Drift: c.applier.Owned.Drift(), DataFiles: c.dataFiles.Status(), Options: c.cfg.Model,
		TCPServices: c.cfg.Watch.TCPServices, UDPServices: c.cfg.Watch.UDPServices}
	enc := json.NewEncoder(w)
	// The model is tens of MB with 10,000 Ingresses: only on request,
	// and not indented.
	if r.URL.Query().Get("model") == "true" {
		out.Model, _ = c.lastSync.Load().(*model.Config)
		if out.Model == nil {
			out.ModelNote = "no model now: a sync is running or the last one failed; ask again"
		}
	} else {
		enc.SetIndent("", "  ")
	}
	w.Header().Set("Content-Type", "application/json")
	_ = enc.Encode(out)
}

// servedFile answers GET with the file at path, read-only: nginx.conf as
// nginx runs it, or the routed-hosts file, for the tools outside the Pod.
// Neither holds key material (certificates live in Lua memory).
func servedFile(path string) http.HandlerFunc {
	name := filepath.Base(path)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			http.Error(w, "no "+name+" yet: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(b)
	}
}
