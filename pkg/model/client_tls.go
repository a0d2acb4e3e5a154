package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// ClientTLS is auth-tls on a host: nginx asks HTTPS clients for a
// certificate signed by a CA of File (an entry of Config.AuthFiles, named
// after its content) and sends the backend the ssl-client-* headers.
type ClientTLS struct {
	File   string `json:"file"`
	Verify string `json:"verify"`
	Depth  int    `json:"depth"`
	// PassCertificate adds ssl-client-cert, the URL-escaped PEM.
	PassCertificate bool `json:"passCertificate,omitempty"`
	// MatchCN must match the subject DN, else 403; "" for any.
	MatchCN string `json:"matchCN,omitempty"`
	// ErrorPage is where a failing certificate redirects; "" for 400.
	ErrorPage string `json:"errorPage,omitempty"`
}

// maxCABundle bounds a ca.crt: nginx loads it into every worker.
const maxCABundle = 1 << 20

// clientTLS reads the CA bundle of c from the Ingress's namespace and
// returns the host setting, or an Error diagnostic: an Ingress that asks
// for client certificates is not served without them.
func (b *builder) clientTLS(ing *networkingv1.Ingress, c *annotations.ClientTLS) (*ClientTLS, []diag.Diagnostic) {
	f := "metadata.annotations[" + annotations.Prefix + "auth-tls-secret]"
	fail := func(format string, args ...any) (*ClientTLS, []diag.Diagnostic) {
		return nil, []diag.Diagnostic{diag.Errorf(f, "InvalidAuthTLSSecret", "%s; the Ingress is refused", fmt.Sprintf(format, args...))}
	}
	for _, r := range ing.Spec.Rules {
		if r.Host == "" {
			return fail("auth-tls needs every rule to name a host: the rules without a host are served by the catch-all server, which asks no client for a certificate")
		}
	}
	s, ref, err := b.ownSecret(ing, c.Namespace, c.Secret)
	if err != nil {
		return fail("%v", err)
	}
	raw, ok := s.Data["ca.crt"]
	if !ok || len(raw) == 0 {
		return fail("secret %s has no key ca.crt", ref)
	}
	bundle, err := caBundle(raw)
	if err != nil {
		return fail("secret %s: %v", ref, err)
	}
	name := b.contentFile("ca-", bundle)
	out := &ClientTLS{File: name, Verify: c.Verify, Depth: c.Depth, PassCertificate: c.PassCertificate, MatchCN: c.MatchCN}
	if c.ErrorPage != nil {
		out.ErrorPage = c.ErrorPage.String()
	}
	return out, nil
}

// ownSecret returns the Secret an annotation names (namespace "" or the
// Ingress's; another namespace's only with allow-cross-namespace-resources)
// and its reference.
func (b *builder) ownSecret(ing *networkingv1.Ingress, namespace, name string) (*corev1.Secret, SecretRef, error) {
	ref, err := b.secretRef(ing.Namespace, namespace, name)
	if err != nil {
		return nil, ref, err
	}
	s := b.secrets[ref]
	if s == nil {
		return nil, ref, fmt.Errorf("secret %s does not exist", ref)
	}
	return s, ref, nil
}

// caBundle parses a ca.crt (pemCertificates) of at most 1 MiB and
// returns it re-encoded.
func caBundle(raw []byte) ([]byte, error) {
	if len(raw) > maxCABundle {
		return nil, fmt.Errorf("ca.crt is larger than 1 MiB")
	}
	_, bundle, err := pemCertificates(raw, "ca.crt")
	return bundle, err
}

// contentFile adds content to Config.AuthFiles under a name of prefix and
// a hash of it (a new content is a new name: nginx loads it on reload)
// and returns the name.
func (b *builder) contentFile(prefix string, content []byte) string {
	sum := sha256.Sum256(content)
	name := prefix + hex.EncodeToString(sum[:8]) + ".pem"
	if b.authFiles == nil {
		b.authFiles = map[string]*AuthFile{}
	}
	b.authFiles[name] = &AuthFile{Name: name, Content: string(content)}
	return name
}

// ClientTLSHeaders are what a backend of an auth-tls host gets, and its
// auth service.
func ClientTLSHeaders(c *ClientTLS) []Header {
	hs := []Header{{Name: "ssl-client-verify", Var: "ssl_client_verify"}, {Name: "ssl-client-subject-dn", Var: "ssl_client_s_dn"},
		{Name: "ssl-client-issuer-dn", Var: "ssl_client_i_dn"}}
	if c.PassCertificate {
		hs = append(hs, Header{Name: "ssl-client-cert", Var: "ssl_client_escaped_cert"})
	}
	return hs
}
