package plan

import (
	"reflect"

	"github.com/portico-ingress/portico/pkg/model"
)

// Plan is how nginx and its Lua carry one model: which hosts are server
// blocks of nginx.conf and which the Lua router serves, the router's
// locations and shared limit zones, where X-Request-ID is made, and the
// documents pushed to Lua. Its nginx.conf part is views that render
// prints section by section: HTTP (main and http contexts), Status (the
// status server), Servers (server blocks), their Locations and the
// Router's.
type Plan struct {
	// Model is the meaning the plan carries; the plan never changes it.
	Model *model.Config `json:"-"`
	HTTP  *HTTP         `json:"-"`
	// Servers are the server blocks, sorted by host: the catch-all server
	// first.
	Servers []*Server `json:"servers"`
	// Router is the catch-all server's Lua router; nil when dynamic
	// routing is off (every host is a server block).
	Router *Router `json:"router,omitempty"`
	// RateLimits are the limit zones of the server blocks' locations.
	RateLimits []*LimitZones `json:"rateLimits,omitempty"`
	// Upstreams are the nginx upstream blocks of the Lua balancer.
	Upstreams []string `json:"upstreams"`
	// AuthUpstreams keep connections to auth services (auth-keepalive).
	AuthUpstreams []AuthUpstream `json:"authUpstreams,omitempty"`
	// AuthCache is the directory of the cache zone of the auth answers
	// nginx keeps (auth-cache-key); "" when no location keeps any.
	AuthCache string `json:"authCache,omitempty"`
	// Documents are what Lua holds, as the bodies of its configuration
	// endpoints.
	Documents *Documents `json:"-"`
	// AuthFiles are the files nginx reads per request (htpasswd, CA
	// bundles), by name.
	AuthFiles map[string][]byte `json:"-"`
	// routed are the hosts the router serves, for RoutedHosts.
	routed []RoutedHost
	// Stream is the stream context: TCP and UDP services, the
	// passthrough front; nil when there is none. PeerFiles are the files
	// its njs script picks peers from, by name (in PeersDir): an endpoint
	// change rewrites them, never nginx.conf.
	Stream    *Stream           `json:"stream,omitempty"`
	PeerFiles map[string][]byte `json:"-"`
}

// Make plans how nginx and Lua carry m, with the controller's settings
// opts. prev is the last plan nginx took (nil for none): when the only
// change to nginx.conf would be that no route needs some of its router
// locations any more (the last Ingress of a kind went), the plan keeps
// them, unused, so that nginx need not reload; a change that reloads
// anyway drops them. prev also presizes the documents.
func Make(m *model.Config, prev *Plan, opts Options) (*Plan, error) {
	p := &Plan{Model: m, HTTP: httpOf(m.Global, opts), Upstreams: upstreams, AuthUpstreams: authUpstreams(m), AuthFiles: authFiles(m)}
	p.HTTP.tlsFiles(m.Global.TLS, p.AuthFiles)
	if p.Stream = streamOf(m, p.HTTP, opts); p.Stream != nil {
		p.PeerFiles = peerFilesOf(m)
	}
	p.HTTP.WAF = wafOf(m, opts.LuaDir)
	p.HTTP.GeoIP2 = geoIP2Of(m, opts)
	p.HTTP.TraceConfig = traceConfigOf(m)
	routes, needs := p.serve(m)
	p.HTTP.ServerNames = serverNamesHash(p.Servers, m.Global.Hashes)
	if needs != nil {
		p.RateLimits = staticLimits(p.RateLimits, p.Servers)
		router := needs.router(nil)
		if prev != nil && prev.Router != nil {
			if kept := needs.router(prev.Router); !reflect.DeepEqual(kept, router) && p.withAuthCache(kept).sameNginx(prev, kept) {
				router = kept
			}
		}
		p.Router = router
		for _, s := range p.Servers {
			if s.Host == "" { // the catch-all server runs it
				s.Router = router
			}
		}
	}
	p.AuthCache = p.withAuthCache(p.Router).AuthCache
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

// HeadersMore reports whether nginx.conf loads the headers-more module:
// for add-headers, custom-headers, or a snippet (annotation or
// ConfigMap), which may use more_set_headers as ingress-nginx users'
// snippets do.
func (p *Plan) HeadersMore() bool {
	http := p.HTTP.Snippets
	http.Stream = "" // the stream block has no headers
	if len(p.HTTP.ResponseHeaders) > 0 || http != (model.ConfigSnippets{}) {
		return true
	}
	for _, s := range p.Servers {
		if len(s.Snippets) > 0 {
			return true
		}
		for _, l := range s.Locations {
			if len(l.Extras.ResponseHeaders) > 0 || l.Snippet != "" || l.Auth != nil && l.Auth.Snippet != "" {
				return true
			}
		}
	}
	if r := p.Router; r != nil {
		for _, l := range r.Locations {
			if len(l.Extras.ResponseHeaders) > 0 {
				return true
			}
		}
		for _, a := range r.AuthLocations {
			if a.Snippet != "" {
				return true
			}
		}
	}
	return false
}

// withAuthCache is p with its AuthCache set for router: a directory when
// a location of its server blocks or an AuthLocation of router keeps auth
// answers.
func (p *Plan) withAuthCache(router *Router) *Plan {
	q := *p
	q.AuthCache = ""
	keeps := false
	for _, s := range p.Servers {
		for _, l := range s.Locations {
			keeps = keeps || l.Auth != nil && l.Auth.CacheKey != ""
		}
	}
	if router != nil {
		for _, a := range router.AuthLocations {
			keeps = keeps || a.CacheKey != ""
		}
	}
	if keeps {
		q.AuthCache = p.HTTP.RunDir + "/auth_cache"
	}
	return &q
}

// Status is p's loopback status server.
func (p *Plan) Status() Status {
	st := Status{Port: p.HTTP.StatusPort, Paths: statusPaths, GeneratedID: p.HTTP.RequestIDByLua, WAF: p.HTTP.WAF.On,
		Tracing: p.HTTP.TraceConfig != ""}
	if r := p.Router; r != nil {
		st.LimitScope, st.BasicAuth, st.Errors = r.Zones != nil, r.BasicAuth, len(r.ErrorCodes) > 0
		st.Auth = len(r.AuthLocations) > 0
		for _, a := range r.AuthLocations {
			st.AuthCacheScope = st.AuthCacheScope || a.CacheKey != ""
		}
		st.AuthSkip, st.Mirror = r.AuthSkip, r.Mirror || r.MirrorNoBody
	}
	return st
}

// sameNginx reports whether p with router in place of its own gives the
// nginx.conf of prev: what nginx.conf prints of them is equal.
func (p *Plan) sameNginx(prev *Plan, router *Router) bool {
	return reflect.DeepEqual(router, prev.Router) && reflect.DeepEqual(p.HTTP, prev.HTTP) &&
		reflect.DeepEqual(p.RateLimits, prev.RateLimits) && reflect.DeepEqual(p.Upstreams, prev.Upstreams) &&
		reflect.DeepEqual(p.AuthUpstreams, prev.AuthUpstreams) && p.AuthCache == prev.AuthCache &&
		reflect.DeepEqual(p.Stream, prev.Stream) &&
		sameServers(p.Servers, prev.Servers)
}

// sameServers compares server blocks but the router the catch-all server
// runs, which sameNginx compares apart (Make gives it its router once
// decided).
func sameServers(a, b []*Server) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := *a[i], *b[i]
		x.Router, y.Router = nil, nil
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// Carried is what the next plan is made from of p (Make's prev, and the
// model's Input.Previous): its nginx.conf structure, its documents (for
// their sizes) and the ConfigMap values in effect, without the rest of
// its model, which the garbage collector may take while the next is
// built (at 10,000 Ingresses a model is tens of MB).
func (p *Plan) Carried() *Plan {
	c := *p
	c.Model = &model.Config{ConfigMapValues: p.Model.ConfigMapValues}
	c.routed = nil
	if p.Router == nil {
		c.Servers, c.RateLimits = nil, nil // only kept router locations compare them
	}
	return &c
}

// WithEndpoints is the plan of m, p's model after a change to
// EndpointSlices alone (model.Config.WithEndpoints): p with m's backends
// and peer files.
// nginx.conf, the routes and the certificates stay as they are; a
// backend m shares with p's model keeps its JSON.
func (p *Plan) WithEndpoints(m *model.Config) (*Plan, error) {
	kept := make(map[*model.Backend]bool, len(p.Model.Backends))
	for _, be := range p.Model.Backends {
		kept[be] = true
	}
	old := p.Documents.Backends
	w := newBody(BackendsPath, routesHead{}, len(old.Body), len(m.Backends))
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
	if q.Stream != nil {
		q.PeerFiles = peerFilesOf(m)
	}
	return &q, nil
}
