// Package controller runs Portico's one pipeline: watch → model → render →
// apply, then reports back (status, events).
//
// Contract: one goroutine syncs at a time; a sync reads a snapshot of the
// caches, builds the model, renders nginx.conf and applies it. Only a changed
// config reloads nginx; only changed backends are pushed. A failed sync is
// retried with backoff while nginx keeps serving the last good config.
package controller
