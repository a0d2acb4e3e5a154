package model

import (
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// passthroughField is where the diagnostics of ssl-passthrough point.
const passthroughField = "metadata.annotations[" + annotations.Prefix + "ssl-passthrough]"

// claimPassthrough marks the host of a rule of an Ingress with
// ssl-passthrough (with --enable-ssl-passthrough): its TLS connections
// are to go to its backend untouched. On a rule without a host (no SNI
// to tell it by) the annotation has no effect and a Warning says so.
func (b *builder) claimPassthrough(obj diag.Object, srv *serverBuild, field string) {
	switch {
	case srv.host == "":
		b.diag(obj, diag.Warnf(field, "SSLPassthroughIgnored",
			"ssl-passthrough needs a host (the TLS server name tells the connections apart); the rule's TLS ends at Portico"))
	case srv.passthrough == nil:
		srv.passthrough = &obj
	}
}

// passthrough finishes a passthrough host: its TLS connections go to the
// backend of its "/" path (a Prefix one, else an Exact one), and its
// plain HTTP routes proxy over HTTPS, the backend speaking TLS (as in
// ingress-nginx). A host without a "/" path of an Ingress keeps ending
// TLS at Portico, with a Warning.
func (b *builder) passthrough(s *serverBuild, srv *Server) {
	if s.passthrough == nil {
		return
	}
	for _, mod := range []Modifier{ModPrefix, ModExact} {
		if r := s.routes[match{mod, "/"}]; r != nil && r.loc.Backend != "" && r.loc.Ingress != (IngressRef{}) {
			srv.Passthrough = r.loc.Backend
			break
		}
	}
	if srv.Passthrough == "" {
		b.diag(*s.passthrough, diag.Warnf(passthroughField, "SSLPassthroughIgnored",
			"host %q has no path \"/\" with a Service backend to pass TLS connections to; its TLS ends at Portico", s.host))
		return
	}
	for _, l := range srv.Locations {
		if l.Backend != "" && (l.Proxy.Protocol == "" || l.Proxy.Protocol == annotations.ProtoHTTP) {
			l.Proxy.Protocol = annotations.ProtoHTTPS
		}
	}
}
