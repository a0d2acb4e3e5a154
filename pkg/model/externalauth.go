package model

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// externalAuth resolves the auth-url of ing: $host is refused where the
// client would name it (hostVarRules), auth-proxy-set-headers' ConfigMap
// is read (a missing or bad one refuses the Ingress: the auth service
// would not get what it decides by) and auth-keepalive's address is found
// (a host name that is no Service's is reported, and nothing is kept).
func (b *builder) externalAuth(ing *networkingv1.Ingress, ea *annotations.ExternalAuth) (*annotations.ExternalAuth, []diag.Diagnostic) {
	if ea == nil {
		return nil, nil
	}
	var ds []diag.Diagnostic
	if ea.URLHostFromRule || ea.SigninHostFromRule {
		ds = append(ds, hostVarRules(ing, ea)...)
	}
	e := *ea
	if ref := ea.ProxyHeaders; ref != nil {
		hs, err := b.authSetHeaders(ing.Namespace, *ref)
		if err != nil {
			ds = append(ds, diag.Errorf("metadata.annotations["+annotations.Prefix+"auth-proxy-set-headers]", "InvalidAuthProxySetHeaders",
				"%v; the Ingress is not served", err))
		}
		e.SetHeaders = hs
	}
	if k := ea.Keepalive; k != nil {
		kept := *k
		e.Keepalive = nil
		switch addr, why := b.authAddress(ea.URL); {
		case why != "":
			ds = append(ds, diag.Warnf("metadata.annotations["+annotations.Prefix+"auth-keepalive]", "IneffectiveAnnotation",
				"%s; every auth request opens its own connection", why))
		default:
			kept.Address = addr
			e.Keepalive = &kept
		}
	}
	return &e, ds
}

// authSetHeaders reads the headers of ConfigMap ref (in namespace ns, the
// Ingress's, unless ref names it) for the auth service.
func (b *builder) authSetHeaders(ns string, ref annotations.ObjectRef) ([]annotations.AuthSetHeader, error) {
	cm, err := b.configMap(ns, ref)
	if err != nil {
		return nil, err
	}
	hs, err := annotations.ParseAuthSetHeaders(cm.Data)
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return hs, nil
}

// authAddress is the address nginx keeps connections to for auth URL u:
// its IP address, or the cluster IP of the Service it names as
// <service>.<namespace>.svc[.cluster.local]; why says why there is none
// (nginx resolves an upstream block's names only when it loads its
// configuration, so Portico names none).
func (b *builder) authAddress(u annotations.URL) (addr, why string) {
	port := u.Port
	if port == 0 {
		port = 80
		if u.Scheme == "https" {
			port = 443
		}
	}
	if u.IsIP() {
		return u.Host + ":" + strconv.Itoa(port), ""
	}
	name, ok := strings.CutSuffix(u.Host, ".svc.cluster.local")
	if !ok {
		name, ok = strings.CutSuffix(u.Host, ".svc")
	}
	svc, ns, two := strings.Cut(name, ".")
	if !ok || !two || strings.Contains(ns, ".") {
		return "", fmt.Sprintf("auth-url's host %s is neither an IP address nor a Service's name (<service>.<namespace>.svc or .svc.cluster.local)", u.Host)
	}
	s := b.backends.services[ServiceRef{ns, svc}]
	if s == nil {
		return "", fmt.Sprintf("Service %s/%s that auth-url names does not exist", ns, svc)
	}
	ip, err := netip.ParseAddr(s.Spec.ClusterIP)
	if err != nil {
		return "", fmt.Sprintf("Service %s/%s that auth-url names has no cluster IP", ns, svc)
	}
	return netip.AddrPortFrom(ip, uint16(port)).String(), ""
}

// locationAuth is the auth of an Ingress path on host: the Ingress's own
// auth-url, else the ConfigMap's global auth unless the Ingress opts out;
// none for a path that starts with one of no-auth-locations.
func (h *ingressHTTP) locationAuth(loc *Location, path, host string) {
	if h.global.noAuth(path) {
		return
	}
	loc.BasicAuth = h.basic
	ea := h.auth
	if ea == nil && !h.set.NoGlobalAuth {
		ea, loc.GlobalAuth = h.global.Auth, h.global.Auth != nil
	}
	if ea == nil {
		return
	}
	e := *ea
	// $host: the rule's host (hostVarRules refused the others).
	if ea.URLHostFromRule {
		e.URL.Host = host
	}
	if ea.SigninHostFromRule {
		in := *ea.Signin
		in.Host = host
		e.Signin = &in
	}
	loc.ExternalAuth = &e
	for _, rh := range ea.ResponseHeaders {
		loc.Headers = append(loc.Headers, Header{Name: rh.Name, Var: "portico_auth_" + rh.Var})
	}
}
