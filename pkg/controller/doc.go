// Package controller runs Portico's one pipeline: watch → model → render →
// apply, then reports back (status, events).
//
// Contract: one goroutine syncs at a time; a sync reads a snapshot of the
// caches, builds the model, renders nginx.conf and applies it. Only a changed
// config reloads nginx; only changed backends are pushed. A failed sync is
// retried with backoff while nginx keeps serving the last good config.
//
// Replicas: every replica serves traffic and reloads its own nginx; only the
// holder of the coordination Lease (leader.go) writes Ingress status. The
// ConfigMap values a sync applied are fed back into the next model build,
// so an invalid value keeps the last good one. The validating webhook
// (webhook.go) builds the model from the caches with the reviewed Ingress
// and never touches nginx.
package controller
