// Package templates holds the text/template sources Portico renders, one
// file per section of nginx.conf: nginx.tmpl (the main and http contexts,
// the root), status.tmpl (the status server), server.tmpl (a server
// block), router.tmpl (the locations of the Lua router), location.tmpl
// (a server block's location), auth.tmpl (the internal location of
// auth subrequests, a server block's or the router's), stream.tmpl (the
// stream context: TCP and UDP services, the TLS passthrough front) and
// modules.tmpl (what the modules loaded on demand print in the http
// context: ModSecurity, GeoIP2); routed.tmpl prints a file beside
// nginx.conf, which nginx does not load: the hosts the Lua router serves
// as the server blocks they stand for.
//
// Contract: each section prints one typed view of package plan (Plan,
// plan.Status, plan.Server, plan.Router, plan.Location,
// plan.AuthLocation, plan.Stream, plan.RoutedHosts); templates only range
// over, test and print fields of it, every printed value was validated by
// the model, and every decision was made by the plan: they never escape,
// compute or decide anything.
package templates

import "embed"

// FS holds every template; nginx.tmpl is the root.
//
//go:embed *.tmpl
var FS embed.FS
