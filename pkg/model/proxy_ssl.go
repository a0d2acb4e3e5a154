package model

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// proxySSL reads proxy-ssl-secret (another namespace's only with
// allow-cross-namespace-resources, ownSecret): its
// ca.crt (required) becomes the trusted CAs, its tls.crt and tls.key (both
// or neither) the client certificate nginx shows the backend. A Secret
// that cannot give them refuses the Ingress: it asked for checked TLS.
func (b *builder) proxySSL(ing *networkingv1.Ingress, p *annotations.ProxySSL) (*annotations.ProxySSL, []diag.Diagnostic) {
	fail := func(format string, args ...any) (*annotations.ProxySSL, []diag.Diagnostic) {
		return nil, []diag.Diagnostic{diag.Errorf("metadata.annotations["+annotations.Prefix+"proxy-ssl-secret]", "InvalidProxySSLSecret",
			"%s; the Ingress is refused", fmt.Sprintf(format, args...))}
	}
	s, ref, err := b.ownSecret(ing, p.Namespace, p.Secret)
	if err != nil {
		return fail("%v", err)
	}
	ca, ok := s.Data["ca.crt"]
	if !ok {
		return fail("secret %s has no key ca.crt", ref)
	}
	bundle, err := caBundle(ca)
	if err != nil {
		return fail("secret %s: %v", ref, err)
	}
	out := *p
	out.Namespace, out.Secret = "", ""
	out.Trusted = b.contentFile("proxy-ca-", bundle)
	crt, hasCrt := s.Data["tls.crt"]
	key, hasKey := s.Data["tls.key"]
	switch {
	case hasCrt != hasKey:
		return fail("secret %s has one of tls.crt and tls.key: want both (a client certificate) or neither", ref)
	case hasCrt:
		chain, keyPEM, _, err := parseKeyPair(crt, key)
		if err != nil {
			return fail("tls.crt and tls.key of secret %s: %v", ref, err)
		}
		out.Cert = b.contentFile("proxy-cert-", chain)
		out.Key = b.contentFile("proxy-key-", keyPEM)
	}
	return &out, nil
}
