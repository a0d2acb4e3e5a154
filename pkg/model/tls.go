package model

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// parseCertificate validates a TLS Secret: tls.crt and tls.key must form a
// key pair whose leaf certificate is valid at now. The PEM in the result is
// re-encoded from the parsed values, so nothing else from the Secret passes.
func parseCertificate(s *corev1.Secret, now time.Time) (*Certificate, error) {
	crt, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("secret %s/%s has no %s or no %s", s.Namespace, s.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %v", s.Namespace, s.Name, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %v", s.Namespace, s.Name, err)
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("secret %s/%s: certificate expired at %s", s.Namespace, s.Name, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("secret %s/%s: certificate is not valid before %s", s.Namespace, s.Name, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	der, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: private key: %v", s.Namespace, s.Name, err)
	}
	var chain []byte
	for _, c := range pair.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	return &Certificate{
		Name:     s.Namespace + "/" + s.Name,
		CertPEM:  string(chain),
		KeyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		NotAfter: leaf.NotAfter.UTC(),
		DNSNames: leaf.DNSNames,
	}, nil
}
