package model

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TLSSettings are the ConfigMap's settings of the HTTPS port: the http
// context's ssl_* directives, what the certificate store does with names
// it does not know, and the redirects to HTTPS.
type TLSSettings struct {
	// ECDHCurve is "auto" or a colon-separated list of OpenSSL groups,
	// each named once (ssl_ecdh_curve).
	ECDHCurve string `json:"ecdhCurve"`
	// SessionCache keeps sessions in a shared cache of SessionCacheSize
	// (an nginx size) for SessionTimeout (an nginx time).
	SessionCache     bool   `json:"sessionCache"`
	SessionCacheSize string `json:"sessionCacheSize"`
	SessionTimeout   string `json:"sessionTimeout"`
	// SessionTickets resumes sessions with tickets; SessionTicketKey, when
	// set, is the 48 or 80 bytes they are encrypted with (else nginx makes
	// its own per start).
	SessionTickets   bool   `json:"sessionTickets"`
	SessionTicketKey []byte `json:"-"`
	// BufferSize is ssl_buffer_size, an nginx size.
	BufferSize string `json:"bufferSize"`
	// DHParam, when set, is the PEM of the DH parameters of
	// DHParamSecret's dhparam.pem (checked, re-encoded); DHE ciphers need
	// them.
	DHParam       []byte `json:"-"`
	DHParamSecret string `json:"dhParamSecret,omitempty"`
	// RejectHandshake refuses TLS handshakes for names no host has.
	RejectHandshake bool `json:"rejectHandshake,omitempty"`
	// OCSP staples OCSP responses to the handshakes of the certificates
	// whose chain names a responder and carries the issuer.
	OCSP bool `json:"ocsp,omitempty"`
	// RedirectCode is the status of the redirects to HTTPS and of
	// from-to-www-redirect: 301, 302, 307 or 308.
	RedirectCode int `json:"redirectCode"`
	// NoRedirect are path prefixes of Ingress paths that are never
	// redirected to HTTPS (Location.SSLRedirect is false on them).
	NoRedirect []string `json:"noRedirect,omitempty"`
}

func defaultTLSSettings() TLSSettings {
	return TLSSettings{ECDHCurve: "auto", SessionCache: true, SessionCacheSize: "10m", SessionTimeout: "10m", BufferSize: "4k",
		RedirectCode: 308, NoRedirect: []string{"/.well-known/acme-challenge"}}
}

// ecdhGroups are the OpenSSL group names ssl-ecdh-curve may list, each
// with the group it names (prime256v1, secp256r1 and P-256 are one).
var ecdhGroups = map[string]string{
	"X25519": "x25519", "X448": "x448",
	"prime256v1": "p256", "secp256r1": "p256", "P-256": "p256",
	"secp384r1": "p384", "P-384": "p384", "secp521r1": "p521", "P-521": "p521",
	"secp256k1": "secp256k1", "brainpoolP256r1": "bp256", "brainpoolP384r1": "bp384", "brainpoolP512r1": "bp512",
	"ffdhe2048": "ffdhe2048", "ffdhe3072": "ffdhe3072", "ffdhe4096": "ffdhe4096", "ffdhe6144": "ffdhe6144", "ffdhe8192": "ffdhe8192",
}

func parseECDHCurve(v string, b *globalBuild) string {
	const want = "auto, or OpenSSL groups separated by colons, each once: X25519, X448, prime256v1 (P-256), secp384r1 (P-384), secp521r1 (P-521), secp256k1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1, ffdhe2048 to ffdhe8192"
	if v != "auto" {
		seen := map[string]bool{}
		for _, n := range strings.Split(v, ":") {
			g, ok := ecdhGroups[n]
			if !ok || seen[g] {
				return want
			}
			seen[g] = true
		}
	}
	b.g.TLS.ECDHCurve = v
	return ""
}

func parseSessionTicketKey(v string, b *globalBuild) string {
	const want = "the base64 of 48 or 80 random bytes (openssl rand 80 | openssl enc -A -base64)"
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil || (len(key) != 48 && len(key) != 80) {
		return want
	}
	b.g.TLS.SessionTicketKey = key
	return ""
}

// redirectCodes are the statuses http-redirect-code may be.
var redirectCodes = []int{301, 302, 307, 308}

func parseRedirectCode(v string, b *globalBuild) string {
	n, err := strconv.Atoi(v)
	if err != nil || !slices.Contains(redirectCodes, n) || len(v) != 3 {
		return "301, 302, 307 or 308"
	}
	b.g.TLS.RedirectCode = n
	return ""
}

// noRedirectPrefix is a path prefix of no-tls-redirect-locations: what an
// Ingress path may hold.
var noRedirectPrefix = regexp.MustCompile(`^/[A-Za-z0-9\-._~/!&()*+,=:@]*$`)

func parseNoTLSRedirect(v string, b *globalBuild) string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if len(p) > 256 || !noRedirectPrefix.MatchString(p) {
			return "a comma-separated list of path prefixes such as /.well-known/acme-challenge"
		}
		out = append(out, p)
	}
	b.g.TLS.NoRedirect = out
	return ""
}

// redirects reports whether loc is redirected to HTTPS when its Ingress
// asks: no prefix of NoRedirect begins its Ingress path (its own path for
// one the model made), as ingress-nginx compares them (a string prefix,
// not a path segment).
func (t *TLSSettings) redirects(loc *Location) bool {
	p := loc.IngressPath
	if p == "" {
		p = loc.Path
	}
	for _, n := range t.NoRedirect {
		if strings.HasPrefix(p, n) {
			return false
		}
	}
	return true
}

// Object names of Kubernetes: a namespace is a DNS label, a Secret a DNS
// subdomain.
var (
	namespaceName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	objectName    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
)

// DH parameters: the modulus nginx's OpenSSL accepts at its security
// level (2048 bits and more) and at most 8192 bits, whose handshakes
// already cost a client tens of milliseconds.
const (
	minDHBits   = 2048
	maxDHBits   = 8192
	maxDHSecret = 16 << 10
)

// parseDHParam takes a Secret namespace/name whose dhparam.pem holds DH
// parameters, as ingress-nginx reads them; a Secret that is missing or
// holds no such parameters makes the value invalid (the last good one,
// if it still resolves, is kept).
func parseDHParam(v string, b *globalBuild) string {
	const want = "namespace/name of a Secret whose dhparam.pem holds DH parameters (openssl dhparam 4096)"
	ns, name, ok := strings.Cut(v, "/")
	if !ok || !namespaceName.MatchString(ns) || !objectName.MatchString(name) {
		return want
	}
	s := b.secrets[SecretRef{ns, name}]
	if s == nil {
		return want + ": secret " + v + " does not exist"
	}
	raw, ok := s.Data["dhparam.pem"]
	if !ok {
		return want + ": secret " + v + " has no dhparam.pem"
	}
	p, err := dhParameters(raw)
	if err != nil {
		return want + ": secret " + v + ": " + err.Error()
	}
	b.g.TLS.DHParam, b.g.TLS.DHParamSecret = p, v
	return ""
}

// dhParameters checks a PEM of PKCS #3 DH parameters ("DH PARAMETERS":
// a prime modulus and a generator) and returns it re-encoded.
func dhParameters(raw []byte) ([]byte, error) {
	if len(raw) > maxDHSecret {
		return nil, fmt.Errorf("dhparam.pem is larger than %d KiB", maxDHSecret>>10)
	}
	block, rest := pem.Decode(raw)
	if block == nil || block.Type != "DH PARAMETERS" {
		return nil, fmt.Errorf("dhparam.pem holds no BEGIN DH PARAMETERS block")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("dhparam.pem has more after its DH PARAMETERS block")
	}
	var params struct {
		P, G *big.Int
		L    int `asn1:"optional"`
	}
	if tail, err := asn1.Unmarshal(block.Bytes, &params); err != nil || len(tail) != 0 {
		return nil, fmt.Errorf("the DH PARAMETERS block does not parse")
	}
	bits := params.P.BitLen()
	if bits < minDHBits || bits > maxDHBits || params.P.Bit(0) == 0 {
		return nil, fmt.Errorf("the DH modulus has %d bits; want an odd prime of %d to %d bits", bits, minDHBits, maxDHBits)
	}
	if params.G.Cmp(big.NewInt(1)) <= 0 || params.G.Cmp(params.P) >= 0 {
		return nil, fmt.Errorf("the DH generator is not between 1 and the modulus")
	}
	return pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: block.Bytes}), nil
}

// sessionTimeoutBounds bound ssl-session-timeout: a session a client may
// resume a week later is no longer a short one.
const (
	minSessionTimeout = time.Second
	maxSessionTimeout = 7 * 24 * time.Hour
)
