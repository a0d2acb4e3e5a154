package model

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Bounds of a key pair: nginx holds every certificate in each worker. A
// leaf and its intermediates take a few KiB.
const (
	maxChain = 128 << 10
	maxKey   = 64 << 10
)

// parseCertificate validates a TLS Secret: tls.crt and tls.key must form a
// key pair (parseKeyPair) whose leaf certificate is valid at now. The PEM
// in the result is re-encoded from the parsed values, so nothing else
// from the Secret passes.
func parseCertificate(s *corev1.Secret, now time.Time) (*Certificate, error) {
	crt, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("secret %s/%s has no %s or no %s", s.Namespace, s.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	chain, keyPEM, leaf, err := parseKeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %v", s.Namespace, s.Name, err)
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("secret %s/%s: certificate expired at %s", s.Namespace, s.Name, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("secret %s/%s: certificate is not valid before %s", s.Namespace, s.Name, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return &Certificate{
		Name:         s.Namespace + "/" + s.Name,
		CertPEM:      string(chain),
		KeyPEM:       string(keyPEM),
		NotAfter:     leaf.NotAfter.UTC(),
		DNSNames:     leaf.DNSNames,
		Serial:       leaf.SerialNumber.String(),
		IssuerSerial: leaf.Issuer.SerialNumber,
	}, nil
}

// parseKeyPair validates a tls.crt and tls.key: crt is a certificate
// chain (pemCertificates) of at most 128 KiB; key, at most 64 KiB, holds
// the private key of its first certificate. It returns the chain and the
// key (PKCS#8) re-encoded from the parsed values, and the leaf.
func parseKeyPair(crt, key []byte) (chain, keyPEM []byte, leaf *x509.Certificate, err error) {
	if len(crt) > maxChain {
		return nil, nil, nil, fmt.Errorf("tls.crt is larger than 128 KiB")
	}
	if len(key) > maxKey {
		return nil, nil, nil, fmt.Errorf("tls.key is larger than 64 KiB")
	}
	certs, chain, err := pemCertificates(crt, corev1.TLSCertKey)
	if err != nil {
		return nil, nil, nil, err
	}
	pair, err := tls.X509KeyPair(chain, key)
	if err != nil {
		return nil, nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("private key: %v", err)
	}
	return chain, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), certs[0], nil
}

// pemCertificates parses the PEM certificates of the Secret key named
// name (tls.crt, ca.crt), block by block: each block is a CERTIFICATE
// that parses, at least one; explanatory text may come before a block,
// nothing but whitespace after the last. It returns them, and re-encoded.
func pemCertificates(raw []byte, name string) ([]*x509.Certificate, []byte, error) {
	var (
		certs []*x509.Certificate
		out   []byte
	)
	for rest := raw; ; {
		begin := bytes.Index(rest, []byte("-----BEGIN"))
		if begin < 0 {
			if len(certs) > 0 && len(bytes.TrimSpace(rest)) > 0 {
				return nil, nil, fmt.Errorf("%s ends with %d bytes that are not a PEM block", name, len(bytes.TrimSpace(rest)))
			}
			break
		}
		blk, next := pem.Decode(rest[begin:])
		// pem.Decode skips a block it cannot read and returns the next.
		consumed := rest[begin : len(rest)-len(next)]
		if blk == nil || bytes.Contains(rest[:begin], []byte("-----")) || bytes.Contains(consumed[1:], []byte("-----BEGIN")) {
			return nil, nil, fmt.Errorf("%s holds a malformed PEM block after certificate %d", name, len(certs))
		}
		n := len(certs) + 1
		if blk.Type != "CERTIFICATE" || len(blk.Headers) > 0 {
			return nil, nil, fmt.Errorf("PEM block %d of %s is a %q, not a CERTIFICATE", n, name, blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate %d of %s does not parse: %v", n, name, err)
		}
		certs = append(certs, c)
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		rest = next
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("%s holds no PEM certificate", name)
	}
	return certs, out, nil
}
