package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// propagation is the Lua call that gives the backend a traceparent
// (portico/tracing.lua) for the ConfigMap's tracing g and a location's
// annotations t, as ingress-nginx decides per location: the annotation's
// enable-opentelemetry, else the ConfigMap's; its trust, else the
// ConfigMap's. "" when the location does not trace.
func propagation(g model.Tracing, t *annotations.Tracing) string {
	on, trust := g.On, g.TrustIncoming
	if t != nil {
		if t.EnableSet {
			on = t.Enable
		}
		if t.Trust != nil {
			trust = *t.Trust
		}
	}
	switch {
	case !on:
		return ""
	case trust:
		return `require("portico.tracing").propagate(true)`
	}
	return `require("portico.tracing").propagate(false)`
}

// finish is the Lua call that ends nginx's span of a location with the
// ConfigMap's tracing g and its annotations t (the log phase): with the
// annotation's span name, else the one configure gave the worker (the
// ConfigMap's), else the name of nginx location l, as ingress-nginx's
// OpenTelemetry module names it (spanLocation); "" when the location
// does not trace. The name passed ParseSpanName: it prints as a Lua
// string as it is.
func finish(g model.Tracing, t *annotations.Tracing, l *model.Location) string {
	switch {
	case propagation(g, t) == "":
		return ""
	case t != nil && t.OperationName != "":
		return `require("portico.tracing").finish("` + string(t.OperationName) + `")`
	case g.OperationName != "":
		return `require("portico.tracing").finish()`
	}
	return `require("portico.tracing").finish(nil, "` + spanLocation(l.Path) + `")`
}

// spanLocation is nginx location path p as a Lua string's text: the
// name ingress-nginx's OpenTelemetry module gives a span without
// opentelemetry-operation-name is its nginx location's ("/api/", "/api"
// of "= /api", "^/api" of "~* ^/api"), and Portico's locations are
// ingress-nginx's (model.Location). A path holds no quote or newline
// (model's path grammars); a regex's '\' is escaped for Lua.
func spanLocation(p string) string {
	return strings.ReplaceAll(p, `\`, `\\`)
}

// Propagate is the Lua call of the router's location l that gives the
// backends of routed hosts a traceparent: "/" only, where every request
// arrives once (the others are reached by ngx.exec from it). Routed hosts
// have no OpenTelemetry annotation (plainLocation): the ConfigMap's
// setting is theirs.
func (r *Router) Propagate(l RouterLocation) string {
	if l.Name != "/" {
		return ""
	}
	return propagation(r.HTTP.Tracing, nil)
}

// traceConfigOf is the Lua table nginx.conf's init_worker gives
// portico/tracing.lua's configure: the sampler and the span export; ""
// when no location traces (nothing is configured or declared then).
func traceConfigOf(m *model.Config) string {
	used := m.Global.Tracing.On
	for _, s := range m.Servers {
		for _, l := range s.Locations {
			used = used || (l.Tracing != nil && l.Tracing.Enable)
		}
	}
	if !used {
		return ""
	}
	t := m.Global.Tracing
	out := fmt.Sprintf(`{sampler = "%s", ratio = %s, parent_based = %t`, t.Sampler, strconv.FormatFloat(t.Ratio, 'f', -1, 64), t.ParentBased)
	if e := t.Export; e != nil {
		out += fmt.Sprintf(`, export = {host = "%s", port = %d, service = "%s", delay = %d, batch = %d, queue = %d}`,
			e.Host, e.Port, e.Service, e.DelayMillis, e.Batch, e.Queue)
	}
	if t.OperationName != "" {
		out += `, name = "` + string(t.OperationName) + `"`
	} else if t.On && t.Export != nil {
		// The router names the span of a routed host's request after its
		// route's location ($portico_location).
		out += `, route_locations = true`
	}
	return out + "}"
}
