// Package statusport is the one client of nginx's loopback status port:
// the Lua configuration endpoints (pushes, patches and reads of backends,
// certificates and routes, in the wire format of package plan), the
// checksum of the config nginx runs, and the per-request counters.
//
// Contract: every request is bounded by the Client's timeout and the
// caller's context, never goes through a proxy, and returns an error that
// names the path and nginx's answer. pkg/apply pushes with it; pkg/diagnose
// and the tools read with it (the tools also read the controller's healthz
// port, which answers the same way); it knows no Kubernetes types.
package statusport
