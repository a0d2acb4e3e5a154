package plan

import (
	"fmt"
	"net/netip"

	"github.com/portico-ingress/portico/pkg/model"
)

// Plan is how nginx and Lua carry one model.
type Plan struct {
	// Model is the meaning the plan carries; the plan never changes it.
	Model *model.Config
	// Documents are what Lua holds, as the bodies of its configuration
	// endpoints.
	Documents *Documents
	// AuthFiles are the files nginx reads per request (htpasswd, CA
	// bundles), by name.
	AuthFiles map[string][]byte
}

// Make plans how nginx and Lua carry m. prev, the last plan nginx took
// (nil for none), presizes the documents.
func Make(m *model.Config, prev *Plan) (*Plan, error) {
	l := Lua{Backends: backendsOf(m.Backends), Certificates: certificatesOf(m), Routes: routesOf(m)}
	var hint *Documents
	if prev != nil {
		hint = prev.Documents
	}
	docs, err := l.Encode(hint)
	if err != nil {
		return nil, err
	}
	return &Plan{Model: m, Documents: docs, AuthFiles: authFiles(m)}, nil
}

// backendsOf are the model's backends in the Lua wire format.
func backendsOf(bs []*model.Backend) []Backend {
	out := make([]Backend, 0, len(bs))
	for _, b := range bs {
		eps := make([]Endpoint, 0, len(b.Endpoints))
		for _, e := range b.Endpoints {
			eps = append(eps, Endpoint{Address: e.Address, Port: e.Port})
		}
		w := Backend{Name: b.Name, LoadBalance: string(b.LoadBalance), Endpoints: eps, NoEndpoints: b.NoEndpoints}
		traffic(&w, b)
		out = append(out, w)
	}
	return out
}

// traffic copies a backend's traffic policy to the wire format.
func traffic(w *Backend, b *model.Backend) {
	if c := b.Canary; c != nil {
		w.Canary = &Canary{Backend: c.Backend, Weight: c.Weight, WeightTotal: c.WeightTotal,
			Header: c.Header, HeaderValue: c.HeaderValue, HeaderPattern: c.HeaderPattern, Cookie: c.Cookie}
	}
	if a := b.Affinity; a != nil {
		w.Affinity = &Affinity{Cookie: string(a.Cookie), Path: string(a.Path), MaxAge: a.MaxAge,
			Expires: a.Expires, SameSite: a.SameSite, Mode: a.Mode, Domain: a.Domain, Secure: a.Secure}
	}
	w.HashBy = string(b.HashBy)
}

// certificatesOf is the model's TLS setup in the Lua wire format.
func certificatesOf(cfg *model.Config) Certificates {
	out := Certificates{Servers: map[string]string{}, Default: cfg.DefaultCertificate}
	for _, s := range cfg.Servers {
		if s.TLS != nil {
			out.Servers[s.Host] = s.TLS.Certificate
			for _, a := range s.Aliases {
				out.Servers[a] = s.TLS.Certificate
			}
		}
	}
	for _, c := range cfg.Certificates {
		out.Certificates = append(out.Certificates, Certificate{Name: c.Name, Cert: c.CertPEM, Key: c.KeyPEM})
	}
	return out
}

// routesOf are the model's routes in the Lua router's wire format.
func routesOf(cfg *model.Config) Routes {
	out := Routes{HSTS: cfg.Global.HSTS, Hosts: make(map[string]HostRoutes, len(cfg.Routes))}
	for _, h := range cfg.Routes {
		rs := make([]Route, 0, len(h.Routes))
		for _, r := range h.Routes {
			w := Route{Exact: r.Exact, Regex: r.Regex, Path: r.Path, Backend: r.Backend, IngressPath: r.IngressPath,
				SSLRedirect: r.SSLRedirect, RewriteTarget: string(r.RewriteTarget), ForwardedPrefix: r.ForwardedPrefix,
				ConnectTimeout: int(r.ConnectTimeout), SendTimeout: int(r.SendTimeout), ReadTimeout: int(r.ReadTimeout)}
			if r.IngressPath != "" {
				w.Ingress = r.Ingress.String()
			}
			if r.BodySize != "" {
				limit := r.BodySize.Bytes()
				w.BodyLimit = &limit
			}
			w.Location = r.Location
			if r.Redirect != nil {
				w.Redirect = &Redirect{Code: r.Redirect.Code, URL: r.Redirect.URL.String()}
			}
			w.UpstreamVhost, w.Pass = r.UpstreamVhost, r.Pass
			if c := r.CORS; c != nil {
				w.CORS = &CORS{AnyOrigin: c.AnyOrigin, OriginRegex: c.OriginRegex, Methods: c.Methods, Headers: c.Headers,
					ExposeHeaders: c.ExposeHeaders, Credentials: c.Credentials, MaxAge: c.MaxAge}
			}
			if sr := r.SourceRange; sr != nil {
				w.SourceRange = &SourceRange{Allow: cidrs(sr.Allow), Deny: cidrs(sr.Deny)}
			}
			if rl := r.RateLimit; rl != nil {
				w.RateLimit = &RateLimit{Scope: rl.Scope, Allowlist: cidrs(rl.Allowlist)}
			}
			if ba := r.BasicAuth; ba != nil {
				w.BasicAuth = &BasicAuth{Realm: ba.Realm, File: ba.File}
			}
			if a := r.Auth; a != nil {
				w.Auth = &Auth{URL: a.URL, Host: a.Host, Method: a.Method, Signin: a.Signin, SigninRD: string(a.SigninRD)}
			}
			if e := r.Errors; e != nil {
				w.Errors = &RouteErrors{Backend: e.Backend, Namespace: e.Namespace, Ingress: e.Ingress, Service: e.Service, Port: e.Port}
			}
			rs = append(rs, w)
		}
		out.Hosts[h.Host] = HostRoutes{HSTS: h.HSTS, AppRoot: string(h.AppRoot), RedirectTo: h.RedirectTo, Routes: rs}
	}
	return out
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
