// Package render prints a plan as nginx.conf, and as the routed-hosts
// file beside it (RoutedHosts: the hosts the Lua router serves as the
// server blocks they stand for; nginx does not load it).
//
// Contract: Render and RoutedHosts are pure functions of the plan: the
// same Plan gives the same bytes. They execute the templates of package
// templates, one per section of nginx.conf and one for the routed-hosts
// file, each on the plan's view of it; every decision was made by the
// model and the plan.
package render
