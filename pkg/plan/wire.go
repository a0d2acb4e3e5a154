package plan

import (
	"cmp"
	"fmt"
	"net/netip"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// The model in the Lua wire format.

// backendsOf are the model's backends in the Lua wire format.
func backendsOf(bs []*model.Backend) []Backend {
	out := make([]Backend, 0, len(bs))
	for _, b := range bs {
		out = append(out, backendOf(b))
	}
	return out
}

// backendOf is b in the Lua wire format.
func backendOf(b *model.Backend) Backend {
	eps := make([]Endpoint, 0, len(b.Endpoints))
	for _, e := range b.Endpoints {
		eps = append(eps, Endpoint{Address: e.Address, Port: e.Port})
	}
	w := Backend{Name: b.Name, LoadBalance: string(b.LoadBalance), Endpoints: eps, NoEndpoints: b.NoEndpoints, HashBy: string(b.HashBy),
		HashSubset: b.HashSubset}
	if c := b.Canary; c != nil {
		w.Canary = &Canary{Backend: c.Backend, Weight: c.Weight, WeightTotal: c.WeightTotal,
			Header: c.Header, HeaderValue: c.HeaderValue, HeaderPattern: c.HeaderPattern, Cookie: c.Cookie}
	}
	if a := b.Affinity; a != nil {
		w.Affinity = &Affinity{Cookie: string(a.Cookie), Path: string(a.Path), MaxAge: a.MaxAge,
			Expires: a.Expires, SameSite: a.SameSite, Mode: a.Mode, Domain: a.Domain, Secure: a.Secure,
			Backend: b.Service.String() + ":" + b.Port, ChangeOnFailure: a.ChangeOnFailure,
			ConditionalSameSiteNone: a.ConditionalSameSiteNone}
	}
	return w
}

// certificatesOf is the model's TLS setup in the Lua wire format.
func certificatesOf(cfg *model.Config) Certificates {
	out := Certificates{Servers: map[string]string{}, Default: cfg.DefaultCertificate, RejectUnknown: cfg.Global.TLS.RejectHandshake,
		OCSP: cfg.Global.TLS.OCSP}
	for _, s := range cfg.Servers {
		switch {
		case s.TLS != nil:
			out.Servers[s.Host] = s.TLS.Certificate
			for _, a := range s.Aliases {
				out.Servers[a] = s.TLS.Certificate
			}
		case out.RejectUnknown && s.Host != "":
			// A host without TLS gets the default certificate.
			out.Servers[s.Host] = ""
			for _, a := range s.Aliases {
				out.Servers[a] = ""
			}
		}
	}
	for _, c := range cfg.Certificates {
		out.Certificates = append(out.Certificates, Certificate{Name: c.Name, Cert: c.CertPEM, Key: c.KeyPEM})
	}
	return out
}

// routeOf is the location l of host as the Lua router serves it; the
// router's location of its own, if it needs one, is routerNeeds.add's to
// name.
func routeOf(host string, l *model.Location) Route {
	prefix, _ := forwardedPrefix(l.Headers)
	r := Route{Exact: l.Modifier == model.ModExact, Regex: l.Modifier == model.ModRegex, Path: l.Path, Backend: l.Backend,
		IngressPath: l.IngressPath, SSLRedirect: l.SSLRedirect, RewriteTarget: string(l.RewriteTarget), ForwardedPrefix: prefix,
		RewriteLog:     l.Proxy.RewriteLog && l.RewriteTarget != "",
		ConnectTimeout: int(l.Proxy.ConnectTimeout), SendTimeout: int(l.Proxy.SendTimeout), ReadTimeout: int(l.Proxy.ReadTimeout),
		UpstreamVhost: l.Proxy.UpstreamVhost, SSLRedirectPort: l.SSLRedirect && l.Redirects.Port,
		SSLRedirectSlash: l.SSLRedirect && l.Redirects.KeepTrailingSlash, SatisfyAny: l.Satisfy == "any"}
	if l.IngressPath != "" {
		r.Ingress = l.Ingress.String()
	}
	if l.Proxy.BodySize != "" {
		limit := l.Proxy.BodySize.Bytes()
		r.BodyLimit = &limit
	}
	switch l.Proxy.Protocol {
	case annotations.ProtoHTTPS:
		_, r.Pass = pass(l.Proxy.Protocol)
	case annotations.ProtoAutoHTTP:
		_, r.Pass = pass(annotations.ProtoHTTPS)
		r.PassHTTPSOnly = true
	}
	if m := l.Mirror; m != nil {
		r.Mirror = &Mirror{Target: mirrorTarget(m), Host: m.Host}
	}
	if l.Redirect != nil {
		r.Redirect = &Redirect{Code: l.Redirect.Code, URL: l.Redirect.URL.String()}
		if l.Redirect.URL.Relative() {
			r.RedirectPort, r.RedirectRelative = l.Redirects.Port, l.Redirects.Relative
		}
	}
	if c := l.CORS; c != nil {
		r.CORS = &CORS{AnyOrigin: c.AnyOrigin, OriginRegex: c.OriginRegex, Methods: c.Methods, Headers: c.Headers,
			ExposeHeaders: c.ExposeHeaders, Credentials: c.Credentials, MaxAge: c.MaxAge}
	}
	if sr := l.SourceRange; sr != nil {
		r.SourceRange = &SourceRange{Allow: cidrs(sr.Allow), Deny: cidrs(sr.Deny)}
	}
	if rl := l.RateLimit; rl != nil {
		r.RateLimit = &RateLimit{Scope: rl.Scope, Allowlist: cidrs(rl.Allowlist)}
	}
	if ba := l.BasicAuth; ba != nil {
		r.BasicAuth = &BasicAuth{Realm: ba.Realm, File: ba.File}
	}
	if ea := l.ExternalAuth; ea != nil {
		r.Auth = &Auth{URL: authTarget(ea), Host: ea.URL.HostPort(), Method: cmp.Or(ea.Method, "GET")}
		if ea.Signin != nil {
			r.Auth.Signin, r.Auth.SigninRD = ea.SigninPrefix(), string(ea.SigninRD)
		}
		if ea.Cache != nil {
			r.Auth.CacheScope = authCacheScope(host, l)
		}
	}
	if e := l.Errors; e != nil {
		r.Errors = routeErrors(e.ErrorBackend)
	}
	if d := l.DefaultBackend; d != nil {
		r.DefaultBackend = routeErrors(*d)
	}
	return r
}

// cidrs are the model's canonical CIDRs (netip.Prefix strings, masked)
// in the router's "hex/bits" form.
func cidrs(cidrs []string) []string {
	if len(cidrs) == 0 {
		return nil
	}
	out := make([]string, len(cidrs))
	for i, c := range cidrs {
		p := netip.MustParsePrefix(c) // the model printed it from a netip.Prefix
		out[i] = fmt.Sprintf("%x/%d", p.Addr().AsSlice(), p.Bits())
	}
	return out
}

// authFiles are the files nginx reads per request (htpasswd, CA
// bundles), by name.
func authFiles(cfg *model.Config) map[string][]byte {
	out := make(map[string][]byte, len(cfg.AuthFiles))
	for _, f := range cfg.AuthFiles {
		out[f.Name] = []byte(f.Content)
	}
	return out
}

// routeErrors is the router's form of an error backend.
func routeErrors(e model.ErrorBackend) *RouteErrors {
	return &RouteErrors{Backend: e.Backend, Namespace: e.Ingress.Namespace, Ingress: e.Ingress.Name, Service: e.Service, Port: e.Port}
}
