// Command portico is the Portico ingress controller and its tools:
// controller (the watch → model → plan → render / apply loop), diagnose,
// conf, backends, lint, migrate, wait-shutdown and version. Run as
// "/nginx-ingress-controller" or "/wait-shutdown" (the paths of
// ingress-nginx's image), or with those paths as its first argument, it is
// the controller or wait-shutdown (main.go's commandArgs).
//
// This package is cobra wiring: it parses flags into the options of
// pkg/controller, pkg/diagnose, pkg/lint and pkg/migrate, and prints what
// they return (conf and backends fetch nginx.conf and the Lua endpoints'
// state with pkg/statusport and cut them with pkg/diagnose and pkg/plan);
// the work is done in those packages. The controller's flags are
// ingress-nginx's and Portico's own, each in its group
// (controllerflags.go); migrate judges ingress-nginx's arguments with the
// same definitions.
package main
