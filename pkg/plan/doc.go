// Package plan decides how nginx and its Lua carry a model: which hosts
// are server blocks of nginx.conf and which the Lua router serves
// (servers.go), the router's locations, body limits and shared limit
// zones (router.go), what each section of nginx.conf prints (nginx.go:
// the http context, with the ConfigMap's defaults of per-location proxy
// settings and its block lists' map keys (blocklists.go), the status
// server, the upstreams; locations.go: the
// locations of server blocks; authrequest.go: the internal locations of
// auth subrequests, the upstreams that keep connections to auth services
// and the cache of their answers), what the modules loaded on demand
// print (waf.go: ModSecurity; geoip2.go: the GeoIP2 databases' copies and
// variables) and how a location traces (tracing.go: the Lua calls of
// portico/tracing.lua), where X-Request-ID is made, the wire
// format of the Lua configuration endpoints (lua.go, documented against
// rootfs/etc/nginx/lua/portico), the model in that format (wire.go) and
// the documents pushed to the endpoints (document.go). Endpoints have a
// short path of their own (Plan.WithEndpoints). A route of the router in
// nginx's terms, its directives and the words for people, is
// Route.Terms (routeterms.go), printed for each routed host as the server
// block it stands for (Plan.RoutedHosts, routedhosts.go) and used by the
// tools that explain a route.
//
// Contract: Make is a pure, deterministic function of the model, the
// previous plan and the controller's options; it never changes the model.
// The previous plan only keeps router locations nginx runs when dropping
// them would be the only change to nginx.conf, and presizes the
// documents. The nginx.conf part of a Plan is views that package render
// prints as they are. Every wire type has one definition here, used by
// pkg/apply to push, and by pkg/diagnose and the tools to read what nginx
// holds.
package plan
