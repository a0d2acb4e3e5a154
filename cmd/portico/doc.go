// Command portico is the Portico ingress controller and its tools:
// controller (the watch → model → render → apply loop), diagnose, conf,
// backends, lint and version.
//
// This package is cobra wiring: it parses flags into the options of
// pkg/controller, pkg/diagnose and pkg/lint, and prints what they return
// (conf and backends fetch and cut nginx.conf and the Lua endpoints'
// state through pkg/diagnose); the work is done in those packages.
package main
