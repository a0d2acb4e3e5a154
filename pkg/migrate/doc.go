// Package migrate tells an ingress-nginx user what changes when Portico
// takes over: it runs the ingress-nginx controller's configuration (its
// flags, its ConfigMap, its TCP and UDP ConfigMaps, the Ingresses of its
// class) through Portico's own flag parsing (done by the caller, which owns
// the flag definitions), model and registries, and says per object and per
// field what carries over unchanged, what behaves differently (and how),
// and what Portico does not support.
//
// Contract: Analyze is pure: no I/O, no clock. Statuses come from Portico's
// own code: the annotation catalog and ConfigMap key registry of pkg/model
// (one function, lookup, reads them) and the diagnostics of model.Build on
// the same objects, so what migrate says is what the controller would do.
package migrate
