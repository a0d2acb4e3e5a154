package annotations

import (
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameProxySSLSecret     = "proxy-ssl-secret"
	nameProxySSLVerify     = "proxy-ssl-verify"
	nameProxySSLDepth      = "proxy-ssl-verify-depth"
	nameProxySSLName       = "proxy-ssl-name"
	nameProxySSLServerName = "proxy-ssl-server-name"
	nameProxySSLProtocols  = "proxy-ssl-protocols"
	nameProxySSLCiphers    = "proxy-ssl-ciphers"
)

// ProxySSL is how nginx checks an HTTPS or GRPCS backend (proxy-ssl-*):
// the CA of Secret's ca.crt, and Secret's tls.crt and tls.key as the
// client certificate nginx shows, if it has them. The model reads the
// Secret into the file names; nginx's defaults stay for what is unset.
type ProxySSL struct {
	// Namespace is "" or the namespace proxy-ssl-secret named; the model
	// accepts only the Ingress's own.
	Namespace string `json:"-"`
	Secret    string `json:"-"`
	// Trusted, Cert and Key are files the model writes (AuthFiles).
	Trusted string `json:"trusted,omitempty"`
	Cert    string `json:"cert,omitempty"`
	Key     string `json:"key,omitempty"`
	// Verify is "on" or "off" (nginx's default, off, when "").
	Verify     string   `json:"verify,omitempty"`
	Depth      int      `json:"depth,omitempty"`
	Name       string   `json:"name,omitempty"`
	ServerName string   `json:"serverName,omitempty"`
	Protocols  []string `json:"protocols,omitempty"`
	Ciphers    string   `json:"ciphers,omitempty"`
}

var (
	sslProtocols  = map[string]bool{"TLSv1.2": true, "TLSv1.3": true}
	cipherGrammar = regexp.MustCompile(`^[A-Za-z0-9:+!@=._-]{1,1000}$`)
)

// parseProxySSL parses the proxy-ssl-* annotations; nil without
// proxy-ssl-secret, whose absence makes the others warn.
func parseProxySSL(a Annotations) (*ProxySSL, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	p := &ProxySSL{}
	var d []diag.Diagnostic
	p.Verify, d = parseOnOff(a, nameProxySSLVerify)
	ds = append(ds, d...)
	p.ServerName, d = parseOnOff(a, nameProxySSLServerName)
	ds = append(ds, d...)
	if n, ok, d := parseVerifyDepth(a, nameProxySSLDepth); ok {
		p.Depth = n
	} else {
		ds = append(ds, d...)
	}
	if v, ok := a.lookup(nameProxySSLName); ok {
		n := strings.ToLower(v)
		if len(n) <= 253 && dnsName.MatchString(n) {
			p.Name = n
		} else {
			ds = append(ds, invalid(nameProxySSLName, v, "want a host name such as app.internal")...)
		}
	}
	p.Protocols, d = parseTokens(a, nameProxySSLProtocols, sslProtocols, "want TLSv1.2 and/or TLSv1.3, space-separated")
	if d != nil {
		// ingress-nginx warns and uses its default.
		v, _ := a.lookup(nameProxySSLProtocols)
		ds = append(ds, diag.Warnf(field(nameProxySSLProtocols), "AnnotationValueIgnored",
			"invalid value %s: want TLSv1.2 and/or TLSv1.3, space-separated; TLSv1.2 is used instead, as in ingress-nginx", quoteValue(v)))
	}
	if p.Protocols == nil {
		// ingress-nginx's default with a proxy-ssl-secret.
		p.Protocols = []string{"TLSv1.2"}
	}
	if v, ok := a.lookup(nameProxySSLCiphers); ok {
		if cipherGrammar.MatchString(v) {
			p.Ciphers = v
		} else {
			// ingress-nginx warns and uses its default, nginx's.
			ds = append(ds, diag.Warnf(field(nameProxySSLCiphers), "AnnotationValueIgnored",
				"invalid value %s: want an OpenSSL cipher list such as HIGH:!aNULL:!MD5; DEFAULT is used instead, as in ingress-nginx", quoteValue(v)))
		}
	}
	ns, secret, ok, d := secretRef(a, nameProxySSLSecret)
	ds = append(ds, d...)
	if !ok {
		for _, n := range []string{nameProxySSLVerify, nameProxySSLDepth, nameProxySSLName, nameProxySSLServerName, nameProxySSLProtocols, nameProxySSLCiphers} {
			if _, set := a.lookup(n); set {
				ds = append(ds, diag.Warnf(field(n), "IneffectiveAnnotation", "annotation %s%s has no effect without %s%s", Prefix, n, Prefix, nameProxySSLSecret))
			}
		}
		return nil, ds
	}
	p.Namespace, p.Secret = ns, secret
	return p, ds
}
