package annotations

import (
	"regexp"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameSSLCiphers             = "ssl-ciphers"
	nameSSLPreferServerCiphers = "ssl-prefer-server-ciphers"
)

// TLSCiphers is what an Ingress may set of its hosts' TLS: nginx's
// ssl_ciphers and ssl_prefer_server_ciphers of their server blocks.
type TLSCiphers struct {
	// Ciphers is an OpenSSL cipher list; "" keeps the ConfigMap's.
	Ciphers string `json:"ciphers,omitempty"`
	// PreferServerCiphers is "on", "off" or "" (the http level's, on).
	PreferServerCiphers string `json:"preferServerCiphers,omitempty"`
}

// IsZero reports whether nothing is set.
func (t TLSCiphers) IsZero() bool { return t == TLSCiphers{} }

// sslCipherList is ingress-nginx's grammar of ssl-ciphers: cipher names,
// aliases and operators (letters, digits, '!', ':', '+', '-', '_') and
// @STRENGTH or @SECLEVEL=n.
var sslCipherList = regexp.MustCompile(`^(?:[A-Za-z0-9!:+\-_]|@STRENGTH|@SECLEVEL=[0-5])+$`)

func parseTLSCiphers(a Annotations) (TLSCiphers, []diag.Diagnostic) {
	var t TLSCiphers
	var ds []diag.Diagnostic
	if v, ok := a.lookup(nameSSLCiphers); ok {
		if len(v) <= 1024 && sslCipherList.MatchString(v) {
			t.Ciphers = v
		} else {
			ds = append(ds, invalid(nameSSLCiphers, v, "want an OpenSSL cipher list such as ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")...)
		}
	}
	if on, set, d := parseBool(a, nameSSLPreferServerCiphers); set {
		t.PreferServerCiphers = "off"
		if on {
			t.PreferServerCiphers = "on"
		}
	} else {
		ds = append(ds, d...)
	}
	return t, ds
}
