package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Build translates in into a Config. See the package doc for its contract.
func Build(in Input) *Config {
	b := &builder{
		backends:      newBackends(in.Services, in.EndpointSlices),
		servers:       map[string]*serverBuild{},
		secrets:       make(map[SecretRef]*corev1.Secret, len(in.Secrets)),
		certs:         map[string]*Certificate{},
		now:           in.Now,
		configMaps:    make(map[string]*corev1.ConfigMap, len(in.ConfigMaps)),
		configMapRefs: map[string]bool{},
		served:        in.Served,
	}
	for _, s := range in.Secrets {
		b.secrets[SecretRef{s.Namespace, s.Name}] = s
	}
	for _, cm := range in.ConfigMaps {
		b.configMaps[cm.Namespace+"/"+cm.Name] = cm
	}
	var ds []diag.Diagnostic
	var lastGood map[string]string
	if in.Previous != nil {
		lastGood = in.Previous.ConfigMapValues
	}
	b.cfg.Global, b.cfg.ConfigMapValues, ds = parseConfigMapKeeping(in.ConfigMap, lastGood, configRefs{secrets: b.secrets, localAddrs: in.LocalAddresses, configMaps: b.configMaps})
	b.diags = append(b.diags, ds...)
	for _, ref := range ReferencedConfigMaps(in.ConfigMap) {
		b.configMapRefs[ref] = true
	}
	b.defaultBackend(in.Options.DefaultBackend)
	b.optFallback = b.fallback
	b.defaultCertificate(in.Options.DefaultCertificate)
	b.passthroughOn = in.Options.SSLPassthrough
	b.streamPortsHeld = streamPortsHeld(in)

	cls := newClassifier(in.Options, in.IngressClasses)
	var ings []*networkingv1.Ingress
	for _, ing := range in.Ingresses {
		if cls.owns(ing) {
			ings = append(ings, ing)
		} else if in.Options.ReportUnknownClass && cls.unknownClass(ing) {
			b.diag(diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}, diag.Warnf("spec.ingressClassName",
				"UnknownIngressClass", "IngressClass %q does not exist; no controller serves this Ingress", *ing.Spec.IngressClassName))
		}
	}
	// Oldest first: on conflicts the oldest Ingress wins, as in ingress-nginx.
	slices.SortFunc(ings, func(x, y *networkingv1.Ingress) int {
		return cmp.Or(x.CreationTimestamp.Compare(y.CreationTimestamp.Time),
			cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	b.server("") // the catch-all server always exists
	for _, ing := range ings {
		b.cfg.Ingresses = append(b.cfg.Ingresses, IngressRef{ing.Namespace, ing.Name})
		b.addIngress(ing)
	}
	slices.SortFunc(b.cfg.Ingresses, func(x, y IngressRef) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	b.placeClaims()
	b.attachCanaries()
	b.resolveAliases()
	b.finishServers()
	b.cfg.Backends = b.backends.sorted()
	b.streams(in.TCPServices, in.UDPServices, in.Options.ReservedPorts)
	for _, c := range b.certs {
		b.cfg.Certificates = append(b.cfg.Certificates, c)
	}
	slices.SortFunc(b.cfg.Certificates, func(x, y *Certificate) int { return cmp.Compare(x.Name, y.Name) })
	for _, f := range b.authFiles {
		b.cfg.AuthFiles = append(b.cfg.AuthFiles, f)
	}
	slices.SortFunc(b.cfg.AuthFiles, func(x, y *AuthFile) int { return cmp.Compare(x.Name, y.Name) })
	for ref := range b.configMapRefs {
		b.cfg.ConfigMapRefs = append(b.cfg.ConfigMapRefs, ref)
	}
	slices.Sort(b.cfg.ConfigMapRefs)
	if b.cfg.Global.UseGeoIP2 {
		b.cfg.DataFiles = slices.Sorted(slices.Values(in.Options.GeoIP2Databases))
	}
	diag.Sort(b.diags)
	b.cfg.Diagnostics = b.diags
	return &b.cfg
}

type builder struct {
	cfg      Config
	diags    []diag.Diagnostic
	backends *backends
	servers  map[string]*serverBuild
	// fallback is the backend for requests that match no rule at all.
	fallback string
	secrets  map[SecretRef]*corev1.Secret
	// configMaps are Input.ConfigMaps by "namespace/name"; configMapRefs
	// the names the ConfigMap and annotations named (Config.ConfigMapRefs).
	configMaps    map[string]*corev1.ConfigMap
	configMapRefs map[string]bool
	certs         map[string]*Certificate // used certificates by name
	now           time.Time
	// trafficOf is the traffic policy of each non-canary Ingress;
	// canaries wait for the routes they attach to (attachCanaries).
	trafficOf map[IngressRef]*ingressTraffic
	canaries  []canaryIngress
	// optFallback is --default-backend-service's backend (the error
	// backend of custom-http-errors); authFiles the files nginx reads per
	// request in use, by name.
	optFallback string
	authFiles   map[string]*AuthFile
	// aliasClaims are the names server-alias and from-to-www-redirect ask
	// for, oldest Ingress first (resolveAliases).
	aliasClaims []aliasClaim
	// passthroughOn serves ssl-passthrough (--enable-ssl-passthrough).
	passthroughOn bool
	// served is Input.Served.
	served map[IngressRef]*networkingv1.Ingress
	// streamPortsHeld are the ports a stream snippet may not listen on.
	streamPortsHeld map[streamListen]string
}

// aliasClaim is a name an Ingress asks its host to answer to as well: an
// alias, or (www) a name that redirects to the host.
type aliasClaim struct {
	name, host string
	www        bool
	obj        diag.Object
	field      string
}

// serverBuild collects one host's routes before they become a Server.
type serverBuild struct {
	host     string
	routes   map[match]*route
	fallback string     // the oldest defaultBackend among this host's Ingresses
	tls      *ServerTLS // from the oldest Ingress that lists the host under spec.tls
	// appRoot and snippets are the app-root and server-snippet of the
	// host's Ingresses.
	appRoot  annotations.URIPath
	snippets []annotations.Snippet
	// claims are the paths of the host's Ingresses, oldest first;
	// placeClaims makes them routes: the locations of routes, or, when
	// regex (regexhosts.go), the regex locations of ordered, in nginx's
	// order.
	claims  []*claim
	regex   bool
	ordered []*route
	// aliases are the names of server-alias that the host got, in claim
	// order (resolveAliases).
	aliases []string
	// clientTLS is the auth-tls of the oldest Ingress of the host with it.
	clientTLS *ClientTLS
	// tlsCiphers are ssl-ciphers and ssl-prefer-server-ciphers, each of
	// the oldest Ingress of the host that sets it.
	tlsCiphers annotations.TLSCiphers
	// passthrough is the oldest Ingress of the host with ssl-passthrough
	// (claimPassthrough); nil when none.
	passthrough *diag.Object
}

// route is a claim of one Ingress path on one nginx location.
type route struct {
	pathType networkingv1.PathType
	// path is the Ingress path, as validated; "" for a synthesized route.
	path  string
	loc   Location
	field string
	// sslRedirect is the route's ssl-redirect annotation (nil: unset) and
	// force its force-ssl-redirect; they become loc.SSLRedirect once the
	// server's TLS is known.
	sslRedirect *bool
	force       bool
	canary      *Canary // attached by a canary Ingress
	// canaryPolicy is the canary Ingress's traffic annotations: its
	// affinity, hashing and affinity-canary-behavior.
	canaryPolicy annotations.Traffic
}

func (b *builder) server(host string) *serverBuild {
	s, ok := b.servers[host]
	if !ok {
		s = &serverBuild{host: host, routes: map[match]*route{}}
		b.servers[host] = s
	}
	return s
}

func (b *builder) defaultBackend(ref *ServiceRef) {
	if ref == nil {
		return
	}
	port := "-"
	if svc := b.backends.services[*ref]; svc != nil && len(svc.Spec.Ports) > 0 {
		port = fmt.Sprint(svc.Spec.Ports[0].Port)
	}
	be := b.backends.get(*ref, port, b.cfg.Global.LoadBalance)
	b.fallback = be.Name
}

func (b *builder) addIngress(ing *networkingv1.Ingress) {
	obj := diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
	set, hx, ds := b.settings(obj, ing)
	b.diags = append(b.diags, diag.For(obj, ds)...)
	if diag.HasError(ds) {
		b.refuse(obj, ing, set, ds)
		return
	}
	b.serve(obj, ing, set, hx)
}

// settings parses the annotations of ing under the operator's policy
// and resolves what they name (Secrets, Services); an Error diagnostic
// means the Ingress is refused.
func (b *builder) settings(obj diag.Object, ing *networkingv1.Ingress) (annotations.Set, ingressHTTP, []diag.Diagnostic) {
	anns := annotations.Annotations(ing.Annotations)
	if !b.cfg.Global.AllowSnippets {
		anns = annotations.WithoutSnippets(anns)
	}
	set, ds := annotations.Parse(anns)
	ds = append(ds, annotations.Policy(ing.Annotations, b.cfg.Global.RiskLevel, b.cfg.Global.AllowSnippets)...)
	ds = append(ds, b.cfg.Global.Policy.blockedWords(ing.Annotations)...)
	ds = append(ds, b.checkStreamSnippet(set.StreamSnippet)...)
	if diag.HasError(ds) {
		return set, ingressHTTP{set: set}, ds
	}
	b.cfg.Global.withDefaults(ing.Annotations, &set)
	hx, hds := b.httpIngress(obj, ing, set, cmp.Or(set.LoadBalance, b.cfg.Global.LoadBalance))
	return set, hx, append(ds, hds...)
}

// serve adds the hosts and paths of an Ingress whose settings passed.
func (b *builder) serve(obj diag.Object, ing *networkingv1.Ingress, set annotations.Set, hx ingressHTTP) {
	ref := IngressRef{ing.Namespace, ing.Name}
	lb := cmp.Or(set.LoadBalance, b.cfg.Global.LoadBalance)
	b.addStreamSnippet(ref, set.StreamSnippet)
	// A canary attaches to the routes of others once they are known.
	if set.Traffic.Canary.Enabled {
		b.canaries = append(b.canaries, canaryIngress{ing: ing, set: set, lb: lb})
		return
	}
	b.traffic(ref, set.Traffic)

	var fallback string
	if db := ing.Spec.DefaultBackend; db != nil {
		fallback = b.routeBackend(obj, "spec.defaultBackend", db, lb, set.ServiceUpstream)
		if b.fallback == "" {
			b.fallback = fallback
		}
	}
	if set.SSLPassthrough && !b.passthroughOn {
		b.diag(obj, diag.Warnf(passthroughField, "SSLPassthroughIgnored",
			"the controller runs without --enable-ssl-passthrough; TLS to the Ingress's hosts ends at Portico"))
	}
	for ri, rule := range ing.Spec.Rules {
		srv := b.ruleServer(obj, ri, rule.Host)
		if srv == nil {
			continue
		}
		if srv.fallback == "" {
			srv.fallback = fallback
		}
		if srv.appRoot == "" {
			srv.appRoot = set.AppRoot
		}
		if set.ServerSnippet != "" && !slices.Contains(srv.snippets, set.ServerSnippet) {
			srv.snippets = append(srv.snippets, set.ServerSnippet)
		}
		b.claimAliases(obj, rule.Host, set)
		if set.SSLPassthrough && b.passthroughOn {
			b.claimPassthrough(obj, srv, fmt.Sprintf("spec.rules[%d]", ri))
		}
		if srv.clientTLS == nil {
			srv.clientTLS = hx.clientTLS
		}
		srv.tlsCiphers.Ciphers = cmp.Or(srv.tlsCiphers.Ciphers, set.TLSCiphers.Ciphers)
		srv.tlsCiphers.PreferServerCiphers = cmp.Or(srv.tlsCiphers.PreferServerCiphers, set.TLSCiphers.PreferServerCiphers)
		if rule.HTTP == nil {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
			b.addPath(obj, ref, srv, field, p, &hx, lb)
		}
	}
	b.addTLS(obj, ing)
}

// addTLS gives the hosts of spec.tls their certificate. A missing or bad
// Secret is reported, and its hosts get the default certificate.
func (b *builder) addTLS(obj diag.Object, ing *networkingv1.Ingress) {
	for ti, t := range ing.Spec.TLS {
		field := fmt.Sprintf("spec.tls[%d]", ti)
		cert := ""
		if t.SecretName != "" {
			c, err := b.certificate(SecretRef{ing.Namespace, t.SecretName})
			if err != nil {
				b.diag(obj, diag.Warnf(field+".secretName", "InvalidTLSSecret",
					"%v; hosts %v are served with the default certificate", err, t.Hosts))
			} else {
				cert = c.Name
			}
		}
		for hi, h := range t.Hosts {
			if _, err := parseHost(h); err != nil {
				b.diag(obj, diag.Errorf(fmt.Sprintf("%s.hosts[%d]", field, hi), "InvalidHost", "%v; TLS is not set up for it", err))
				continue
			}
			if srv := b.server(h); srv.tls == nil {
				srv.tls = &ServerTLS{Certificate: cert}
			}
		}
	}
}

// certificate returns the validated certificate of a Secret.
func (b *builder) certificate(ref SecretRef) (*Certificate, error) {
	if c, ok := b.certs[ref.String()]; ok {
		return c, nil
	}
	s := b.secrets[ref]
	if s == nil {
		return nil, fmt.Errorf("secret %s does not exist", ref)
	}
	c, err := parseCertificate(s, b.now)
	if err != nil {
		return nil, err
	}
	b.certs[c.Name] = c
	return c, nil
}

func (b *builder) defaultCertificate(ref *SecretRef) {
	if ref == nil {
		return
	}
	c, err := b.certificate(*ref)
	if err != nil {
		b.diag(diag.Object{Kind: "Secret", Namespace: ref.Namespace, Name: ref.Name},
			diag.Errorf("", "InvalidTLSSecret", "%v; --default-ssl-certificate is not used", err))
		return
	}
	b.cfg.DefaultCertificate = c.Name
}

func (b *builder) addPath(obj diag.Object, ref IngressRef, srv *serverBuild, field string, p networkingv1.HTTPIngressPath, hx *ingressHTTP, lb annotations.LoadBalance) {
	set := hx.set
	c := b.claimOf(obj, ref, field, p, set)
	if c == nil {
		return
	}
	be := b.routeBackend(obj, field+".backend", &p.Backend, lb, set.ServiceUpstream)
	if be == "" {
		return
	}
	r := &c.route
	r.loc.Backend = be
	if tr := b.trafficOf[ref]; tr != nil {
		r.loc.RateLimit, r.loc.SourceRange = tr.rateLimit, tr.sourceRange
	}
	hx.locationHTTP(&r.loc, p, srv.host)
	srv.claims = append(srv.claims, c)
}

// claimOf validates the path p of an Ingress with settings set (a regex
// when the Ingress reads its paths as ones, else by its pathType) and
// returns its claim, whose location has no backend yet; nil, with a
// diagnostic, when the path is refused.
func (b *builder) claimOf(obj diag.Object, ref IngressRef, field string, p networkingv1.HTTPIngressPath, set annotations.Set) *claim {
	path, pt := IngressPathOf(p)
	c := &claim{obj: obj, path: path, useRegex: set.UseRegex, rewrite: set.RewriteTarget}
	var err error
	if c.regex() {
		var groups int
		groups, err = annotations.ParseRegexPath(path)
		if err == nil && set.RewriteTarget.Captures() > groups {
			err = fmt.Errorf("rewrite-target references $%d but the path has %d capture groups", set.RewriteTarget.Captures(), groups)
		}
	} else {
		c.matches, err = pathMatches(path, pt)
	}
	if err != nil {
		b.diag(obj, diag.Errorf(field, "InvalidPath", "%v; the path is not served", err))
		return nil
	}
	// A regex path's '$' anchors would read as variables in nginx's
	// set: the metrics label goes without them.
	c.route = route{pathType: pt, path: path, field: field, sslRedirect: set.SSLRedirect, force: set.ForceSSLRedirect,
		loc: Location{Ingress: ref, IngressPath: strings.ReplaceAll(path, "$", "")}}
	return c
}

// placePlain gives a claim of a host whose paths are not regular
// expressions its locations (the matches of its pathType): the older
// claim of a location keeps it, but an Exact path takes the exact half
// of a Prefix one.
func (b *builder) placePlain(srv *serverBuild, c *claim) {
	if c.matches == nil {
		// A regex claim that lost to an older claim of the same path and
		// pathType (placeClaims): its path is a plain one.
		var err error
		if c.matches, err = pathMatches(c.path, c.route.pathType); err != nil {
			b.diag(c.obj, diag.Errorf(c.route.field, "InvalidPath", "%v; the path is not served", err))
			return
		}
	}
	lost := false
	for _, m := range c.matches {
		r := c.route // a copy per location
		r.loc.Modifier, r.loc.Path = m.mod, m.path
		cur, taken := srv.routes[m]
		switch {
		case !taken:
			srv.routes[m] = &r
		case exactBeatsPrefix(&r, cur):
			srv.routes[m] = &r
		case exactBeatsPrefix(cur, &r):
		case !lost:
			// The older claim wins; report each losing path once.
			lost = true
			b.diag(c.obj, diag.Warnf(c.route.field, "PathConflict",
				"%s path %s on host %q is already served by Ingress %s (%s), which is older; this path is not served",
				c.route.pathType, c.path, srv.host, cur.loc.Ingress, cur.field))
		}
	}
}

// exactBeatsPrefix reports whether a wins over b because a is an Exact path
// and b is the exact half of a Prefix path: the Ingress API prefers Exact.
func exactBeatsPrefix(a, b *route) bool {
	return a.pathType == networkingv1.PathTypeExact && b.pathType == networkingv1.PathTypePrefix
}

// routeBackend validates an Ingress backend and returns its Backend name,
// or "" when the reference is invalid.
func (b *builder) routeBackend(obj diag.Object, field string, ib *networkingv1.IngressBackend, lb annotations.LoadBalance, viaService bool) string {
	if ib.Service == nil {
		b.diag(obj, diag.Errorf(field, "UnsupportedBackend", "only service backends are supported; the path is not served"))
		return ""
	}
	svc, port, err := parseServiceBackend(obj.Namespace, ib.Service)
	if err != nil {
		b.diag(obj, diag.Errorf(field+".service", "InvalidBackend", "%v; the path is not served", err))
		return ""
	}
	var be *Backend
	if viaService {
		var note string
		if be, note = b.backends.getViaService(svc, port, lb); note != "" {
			b.diag(obj, diag.Warnf(field+".service", "ServiceUpstreamHeadless", "%s", note))
		}
	} else {
		be = b.backends.get(svc, port, lb)
	}
	if why := b.backends.problem(be.Name); why != "" {
		b.diag(obj, diag.Warnf(field+".service", "BackendNotFound", "%s; requests get 503", why))
	}
	return be.Name
}

func (b *builder) diag(obj diag.Object, d diag.Diagnostic) {
	d.Object = obj
	b.diags = append(b.diags, d)
}

// finishServers turns the collected routes into Servers: a plain host's
// locations sorted, a regex host's in their order (placeClaims). A plain
// server without a "/" location gets one that sends what matches
// nothing to the fallback backend, or answers 404.
func (b *builder) finishServers() {
	for _, s := range b.servers {
		routes := s.ordered
		if !s.regex {
			root := match{ModPrefix, "/"}
			if _, ok := s.routes[root]; !ok {
				s.routes[root] = s.fallbackRoute(b)
			}
			routes = make([]*route, 0, len(s.routes))
			for _, r := range s.routes {
				routes = append(routes, r)
			}
		}
		srv := &Server{Host: s.host, Default: s.host == "", TLS: s.tls,
			AppRoot: s.appRoot, Snippets: s.snippets, Aliases: s.aliases, ClientTLS: s.clientTLS, TLSCiphers: s.tlsCiphers}
		srv.Locations = make([]*Location, 0, len(routes))
		for _, r := range routes {
			loc := &r.loc // the route is not used after this
			redirect := b.cfg.Global.SSLRedirect
			if r.sslRedirect != nil {
				redirect = *r.sslRedirect
			}
			// no-tls-redirect-locations: never, whatever the annotations say.
			loc.SSLRedirect = (r.force || (s.tls != nil && redirect)) && b.cfg.Global.TLS.redirects(loc)
			loc.Backend = b.variant(r)
			if s.clientTLS != nil && loc.Backend != "" {
				// Clipped: the locations of one path share their headers.
				loc.Headers = append(slices.Clip(loc.Headers), ClientTLSHeaders(s.clientTLS)...)
			}
			srv.Locations = append(srv.Locations, loc)
		}
		if !s.regex {
			sortLocations(srv.Locations)
		}
		b.passthrough(s, srv)
		b.cfg.Servers = append(b.cfg.Servers, srv)
	}
	slices.SortFunc(b.cfg.Servers, func(x, y *Server) int { return cmp.Compare(x.Host, y.Host) })
}

// ruleServer is the server of rule ri's host, or nil (with an InvalidHost
// error) when the host does not parse and the rule is not served.
func (b *builder) ruleServer(obj diag.Object, ri int, host string) *serverBuild {
	if host != "" {
		if _, err := parseHost(host); err != nil {
			b.diag(obj, diag.Errorf(fmt.Sprintf("spec.rules[%d].host", ri), "InvalidHost", "%v; the rule is not served", err))
			return nil
		}
	}
	return b.server(host)
}
