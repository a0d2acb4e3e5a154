package annotations

import (
	"regexp"
	"strconv"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameAuthTLSSecret    = "auth-tls-secret"
	nameAuthTLSVerify    = "auth-tls-verify-client"
	nameAuthTLSDepth     = "auth-tls-verify-depth"
	nameAuthTLSPassCert  = "auth-tls-pass-certificate-to-upstream"
	nameAuthTLSMatchCN   = "auth-tls-match-cn"
	nameAuthTLSErrorPage = "auth-tls-error-page"
)

// dnPattern is the grammar of auth-tls-match-cn: a regular expression
// over the client's subject DN (CN=alice,O=Example) of letters, digits,
// spaces and =,.*+?^$()|[]-_@:/ that Go's regexp compiles (PCRE agrees on
// this subset); no quotes, backslashes, braces or semicolons.
var dnPattern = regexp.MustCompile(`^[A-Za-z0-9 =,.*+?^$()|\[\]_@:/-]{1,256}$`)

// maxVerifyDepth bounds auth-tls-verify-depth and proxy-ssl-verify-depth.
const maxVerifyDepth = 10

// parseVerifyDepth parses a verify depth (auth-tls-verify-depth,
// proxy-ssl-verify-depth): 1 to maxVerifyDepth, and "0", which
// ingress-nginx reads as its default, 1. ok is false when the annotation
// is unset or refused (ds).
func parseVerifyDepth(a Annotations, name string) (depth int, ok bool, ds []diag.Diagnostic) {
	v, set := a.lookup(name)
	if !set {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxVerifyDepth || v != strconv.Itoa(n) {
		return 0, false, invalid(name, v, "want a depth from 1 to 10 (0 is read as 1)")
	}
	return max(n, 1), true, nil
}

// ClientTLS is auth-tls: HTTPS clients of the Ingress's hosts show a
// certificate that a CA of the Secret's ca.crt signed (the model reads
// it).
type ClientTLS struct {
	// Namespace is "" or the namespace auth-tls-secret named; the model
	// accepts only the Ingress's own.
	Namespace string
	Secret    string
	// Verify is nginx's ssl_verify_client: on, optional or
	// optional_no_ca ("off" turns auth-tls off: no ClientTLS).
	Verify string
	// Depth is ssl_verify_depth.
	Depth int
	// PassCertificate sends the client's certificate, URL-escaped PEM, in
	// the ssl-client-cert header.
	PassCertificate bool
	// MatchCN, a regular expression, must match the client's subject DN
	// (else 403); "" for any.
	MatchCN string
	// ErrorPage is where a client whose certificate fails goes (302);
	// nil: nginx's 400.
	ErrorPage *URL
}

// parseClientTLS parses the auth-tls annotations; nil without
// auth-tls-secret or with auth-tls-verify-client: off.
func parseClientTLS(a Annotations) (*ClientTLS, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	c := &ClientTLS{Verify: "on", Depth: 1}
	if v, ok := a.lookup(nameAuthTLSVerify); ok {
		switch v {
		case "on", "off", "optional", "optional_no_ca":
			c.Verify = v
		default:
			ds = append(ds, invalid(nameAuthTLSVerify, v, "want on, off, optional or optional_no_ca")...)
		}
	}
	if n, ok, d := parseVerifyDepth(a, nameAuthTLSDepth); ok {
		c.Depth = n
	} else {
		ds = append(ds, d...)
	}
	pass, _, d := parseBool(a, nameAuthTLSPassCert)
	c.PassCertificate = pass
	ds = append(ds, d...)
	if v, ok := a.lookup(nameAuthTLSMatchCN); ok {
		if _, err := regexp.Compile(v); err == nil && dnPattern.MatchString(v) {
			c.MatchCN = v
		} else {
			ds = append(ds, invalid(nameAuthTLSMatchCN, v, "want a regular expression over the subject DN such as CN=alice, of letters, digits, spaces and =,.*+?^$()|[]-_@:/")...)
		}
	}
	if v, ok := a.lookup(nameAuthTLSErrorPage); ok {
		if u, ok := parseURL(v); ok {
			c.ErrorPage = &u
		} else {
			ds = append(ds, invalid(nameAuthTLSErrorPage, v, wantURL)...)
		}
	}
	ns, secret, ok, d := secretRef(a, nameAuthTLSSecret)
	ds = append(ds, d...)
	if !ok {
		return nil, ds
	}
	c.Namespace, c.Secret = ns, secret
	if c.Verify == "off" {
		return nil, ds
	}
	return c, ds
}
