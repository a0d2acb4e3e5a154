// Package controller wires Portico's pipeline: watch → model → plan →
// render / apply, then reports back (status, events).
//
// Contract: one goroutine syncs at a time; a sync reads a snapshot of the
// caches, builds the model, makes the plan, renders nginx.conf and applies
// both. Only a changed config reloads nginx; only changed Lua items are
// pushed. The last plan nginx took is the one previous input of the next
// (plan.Make keeps its router locations when dropping them would be the
// only change; model.Build keeps its ConfigMap values for keys now
// invalid); a change to EndpointSlices alone updates that plan's backends
// and pushes them, without a build or a render (syncEndpoints). When nginx
// refuses a config, the changed Ingress that causes it is held at its last
// good version and the rest applied (quarantine.go), or else the changed
// ConfigMap keys that cause it at their last good values (heldkeys.go);
// the versions of Ingresses the last config served are the model's
// Input.Served, so an Ingress whose change the model refuses keeps
// serving its previous version. A change to a ConfigMap that the
// controller's ConfigMap or an annotation names (Config.ConfigMapRefs)
// syncs; other ConfigMaps do not. A failed sync is retried with backoff
// while nginx keeps serving the last good config.
//
// Replicas: every replica serves traffic and reloads its own nginx; only the
// holder of the coordination Lease (leader.go) writes Ingress status. An
// item nginx refused of a push is reported on the Ingresses it came from
// (refused.go). The validating webhook (webhook.go) reviews
// networking.k8s.io/v1 Ingresses only, builds the model from the caches
// with the reviewed one and never touches nginx; its certificate and key
// are loaded by a file watcher when they change and served from memory
// (no handshake reads a file). A changed data file the model names
// triggers a sync. The healthz port serves the full views (status, model,
// nginx.conf) to loopback clients only; Go's profiles have a listener of
// their own (profiler.go, 127.0.0.1 by default).
//
// Metrics: Portico's portico_* families always (metrics.go); with
// EnableMetrics, ingress-nginx's nginx_ingress_controller_* families with
// its names and labels, read at scrape time: per request from nginx's Lua
// counters (requestmetrics.go), nginx's processes and connections, the
// certificates' expiry, the loads and the leader (ingressnginxmetrics.go).
//
// Shutdown (shutdown.go) takes ingress-nginx's steps: the health check
// fails at the signal, nginx keeps accepting for Shutdown.Delay, the last
// Pod of its labels clears the Ingress status, nginx drains and stops,
// and the controller exits Shutdown.PostDelay later. The controller's pid
// file in the run directory lets SignalShutdown (ingress-nginx's preStop
// hook /wait-shutdown) start that from another process.
package controller
