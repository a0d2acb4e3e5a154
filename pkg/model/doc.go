// Package model translates Kubernetes objects into Portico's typed
// configuration.
//
// Contract: Build is a pure, deterministic function. The same Input gives the
// same Config, byte for byte once rendered, whatever the order of the input
// slices. It does no I/O, reads no clock, and never mutates its input. Every
// user-written value that reaches Config (hosts, paths, annotation values,
// ConfigMap values) has passed a typed parser; what fails one is left out and
// reported as a diagnostic naming the object and field. One bad Ingress, or
// one bad path of an Ingress, never removes another's routes, and a
// refused Ingress never opens a path (refusal.go): its previous version
// (Input.Served) keeps serving, or its paths answer 503 naming the cause.
//
// ConfigMap keys have one registry, configKeys (configkeys.go): one entry
// per key ingress-nginx v1.15.1 documents, and per key of Portico's own,
// with its status, default, parser and docs row. A supported key is parsed
// by its entry's parser; any other key is reported (UnsupportedOption, with
// the entry's reason when there is one) and ignored; a key ingress-nginx
// removed before v1.15 is listed too (Gone), with what replaced it. The
// defaults of per-Ingress settings (configdefaults.go) parse with their
// annotation's grammar; an Ingress's annotation overrides each. The
// security policy keys are in securitypolicy.go, the ConfigMap's snippets
// in configsnippets.go. docs/configmap.md is
// generated from it (make docs). Annotations have theirs in
// pkg/model/annotations.
//
// Config says what the objects ask for: the hosts (Servers) with their
// locations and annotations' settings, the backends with their endpoints,
// the certificates, the policies, and the diagnostics. How nginx and Lua
// carry it (server blocks, the Lua router, upstreams, zone and location
// names, wire formats) is package plan's to decide; the model only checks
// values for nginx (paths, sizes, the variables headers and log formats
// may name).
package model
