package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
)

// tls12Cipher connects to the HTTPS port over TLS 1.2 with SNI name,
// offering suites (Go's client orders them itself: AES-128-GCM before
// AES-256-GCM), and returns the suite negotiated.
func tls12Cipher(name string, suites ...uint16) (uint16, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", env.portico.httpsPort), &tls.Config{
		ServerName: name, InsecureSkipVerify: true, //nolint:gosec // the test looks at the cipher, not the certificate
		MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suites,
	})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return conn.ConnectionState().CipherSuite, nil
}

// ssl-ciphers: the host's TLS 1.2 ciphers, picked by SNI; a client
// offering none of them fails the handshake, which the ConfigMap's list
// lets through on another host. ssl-prefer-server-ciphers "false" lets
// the client's order choose (nginx.conf's http level prefers the
// server's).
func TestAnnotationsSSLCiphers(t *testing.T) {
	ns := namespace(t, "ciphers")
	a := newApp(t, ns, "a", 1, "")
	const list = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"
	server, client, plain := "server."+ns+".example.com", "client."+ns+".example.com", "plain."+ns+".example.com"
	c := newCert(t, time.Now().Add(time.Hour), server, client, plain)
	putTLSSecret(t, ns, "tls", c)
	for host, kv := range map[string]map[string]string{
		server: {ann + "ssl-ciphers": list},
		client: {ann + "ssl-ciphers": list, ann + "ssl-prefer-server-ciphers": "false"},
		plain:  nil,
	} {
		ing := newIngress(ns, host[:len(host)-len(ns+".example.com")-1], kv, hostRule(host, prefixPath("/", a.name)))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "tls"}}
		createIngress(t, ing)
	}
	const (
		aes128 = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		aes256 = tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
		chacha = tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	)
	for _, host := range []string{server, client, plain} {
		servesCert(t, host, c)
	}
	for _, tc := range []struct {
		host   string
		offer  []uint16
		want   uint16 // 0: the handshake fails
		reason string
	}{
		{server, []uint16{aes128, aes256}, aes256, "the server's order"},
		{client, []uint16{aes128, aes256}, aes128, "the client's order"},
		{server, []uint16{chacha}, 0, "no cipher of the list"},
		{client, []uint16{chacha}, 0, "no cipher of the list"},
		{plain, []uint16{chacha}, chacha, "the ConfigMap's list"},
	} {
		eventually(t, fmt.Sprintf("%s: %s", tc.host, tc.reason), func() error {
			got, err := tls12Cipher(tc.host, tc.offer...)
			switch {
			case tc.want == 0 && err == nil:
				return fmt.Errorf("negotiated %s, want a failed handshake", tls.CipherSuiteName(got))
			case tc.want != 0 && err != nil:
				return err
			case got != tc.want:
				return fmt.Errorf("negotiated %s, want %s", tls.CipherSuiteName(got), tls.CipherSuiteName(tc.want))
			}
			return nil
		})
	}
	// Just after a reload a connection may still reach an old worker.
	eventually(t, "HTTPS request to "+server, func() error {
		resp, e, err := httpsGet(httpsClient(c), server, "/")
		if err == nil && (resp.StatusCode != 200 || e.Service != a.name) {
			err = fmt.Errorf("%d from %s", resp.StatusCode, e.Service)
		}
		return err
	})
}
