package plan

import (
	"reflect"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Plan is how nginx and its Lua carry one model: which hosts are server
// blocks of nginx.conf and which the Lua router serves, the router's
// locations and shared limit zones, where X-Request-ID is made, and the
// documents pushed to Lua.
type Plan struct {
	// Model is the meaning the plan carries; the plan never changes it.
	Model *model.Config `json:"-"`
	// Servers are the server blocks, sorted by host: the catch-all server
	// first.
	Servers []*Server `json:"servers"`
	// Router is the catch-all server's Lua router; nil when dynamic
	// routing is off (every host is a server block).
	Router *Router `json:"router,omitempty"`
	// RateLimits are the limit zones of the server blocks' locations.
	RateLimits []*model.RateLimit `json:"rateLimits,omitempty"`
	// Upstreams are the nginx upstream blocks of the Lua balancer.
	Upstreams []string `json:"upstreams"`
	// Documents are what Lua holds, as the bodies of its configuration
	// endpoints.
	Documents *Documents `json:"-"`
	// AuthFiles are the files nginx reads per request (htpasswd, CA
	// bundles), by name.
	AuthFiles map[string][]byte `json:"-"`
}

// Make plans how nginx and Lua carry m. prev is the last plan nginx took
// (nil for none): when the only change to nginx.conf would be that no
// route needs some of its router locations any more (the last Ingress of
// a kind went), the plan keeps them, unused, so that nginx need not
// reload; a change that reloads anyway drops them. prev also presizes the
// documents.
func Make(m *model.Config, prev *Plan) (*Plan, error) {
	p := &Plan{Model: m, Upstreams: annotations.Upstreams, RateLimits: m.RateLimits, AuthFiles: authFiles(m)}
	routes, needs := p.serve(m)
	if needs != nil {
		p.RateLimits = staticLimits(m.RateLimits, p.Servers)
		p.Router = needs.router(nil, m.Global.RequestIDByLua)
		if prev != nil && prev.Router != nil {
			if kept := needs.router(prev.Router.Locations, m.Global.RequestIDByLua); !reflect.DeepEqual(kept, p.Router) && p.sameNginx(prev, kept) {
				p.Router = kept
			}
		}
	}
	l := Lua{Backends: backendsOf(m.Backends), Certificates: certificatesOf(m), Routes: routes}
	var hint *Documents
	if prev != nil {
		hint = prev.Documents
	}
	docs, err := l.Encode(hint)
	if err != nil {
		return nil, err
	}
	p.Documents = docs
	return p, nil
}

// sameNginx reports whether p with router in place of its own gives the
// nginx.conf of prev: what nginx.conf prints of them is equal.
func (p *Plan) sameNginx(prev *Plan, router *Router) bool {
	return reflect.DeepEqual(router, prev.Router) && reflect.DeepEqual(p.Servers, prev.Servers) &&
		reflect.DeepEqual(p.RateLimits, prev.RateLimits) && reflect.DeepEqual(p.Upstreams, prev.Upstreams) &&
		reflect.DeepEqual(p.Model.Global, prev.Model.Global)
}

// Carried is what the next plan is made from of p (Make's prev, and the
// model's Input.Previous): its nginx.conf structure, its documents (for
// their sizes) and the ConfigMap values in effect, without the rest of
// its model, which the garbage collector may take while the next is
// built (at 10,000 Ingresses a model is tens of MB).
func (p *Plan) Carried() *Plan {
	c := *p
	c.Model = &model.Config{Global: p.Model.Global, ConfigMapValues: p.Model.ConfigMapValues}
	if p.Router == nil {
		c.Servers, c.RateLimits = nil, nil // only kept router locations compare them
	}
	return &c
}

// WithEndpoints is the plan of m, p's model after a change to
// EndpointSlices alone (model.Config.WithEndpoints): p with m's backends.
// nginx.conf, the routes and the certificates stay as they are; a
// backend m shares with p's model keeps its JSON.
func (p *Plan) WithEndpoints(m *model.Config) (*Plan, error) {
	kept := make(map[*model.Backend]bool, len(p.Model.Backends))
	for _, be := range p.Model.Backends {
		kept[be] = true
	}
	old := p.Documents.Backends
	w := newBody(BackendsPath, "", len(old.Body), len(m.Backends))
	for _, be := range m.Backends {
		var err error
		if j, ok := old.Items[be.Name]; ok && kept[be] {
			err = w.raw(be.Name, j)
		} else {
			b := backendOf(be)
			err = w.item(be.Name, &b)
		}
		if err != nil {
			return nil, err
		}
	}
	q := *p
	docs := *p.Documents
	docs.Backends = w.finish()
	q.Model, q.Documents = m, &docs
	return &q, nil
}
