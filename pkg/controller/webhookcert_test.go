package controller

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/portico-ingress/portico/pkg/filewatch/filewatchtest"
)

// selfSigned is a PEM certificate for 127.0.0.1 with serial, and its key.
func selfSigned(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "webhook"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// servedSerial does one TLS handshake with srv and returns the serial of
// the certificate it served.
func servedSerial(t *testing.T, addr string) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // the serial is what is checked
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// The webhook's pair comes from a Secret volume: a new version swapped in
// by the kubelet is served on a following handshake; a pair that does not
// load keeps the last good one, with a Warning; handshakes read no file.
func TestWebhookCertificateRotation(t *testing.T) {
	crt1, key1 := selfSigned(t, 1)
	vol := filewatchtest.NewVolume(t, map[string][]byte{"tls.crt": crt1, "tls.key": key1})
	core, logs := observer.New(zapcore.InfoLevel)
	c := &webhookCert{certFile: vol.Path("tls.crt"), keyFile: vol.Path("tls.key"), log: zap.New(core)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.watch(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: c.get})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = conn.(*tls.Conn).Handshake(); conn.Close() }()
		}
	}()
	addr := ln.Addr().String()
	if got := servedSerial(t, addr); got != 1 {
		t.Fatalf("serial %d served, want 1", got)
	}
	waitSerial := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for servedSerial(t, addr) != want {
			if time.Now().After(deadline) {
				t.Fatalf("serial %d not served within 5s", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	crt2, key2 := selfSigned(t, 2)
	vol.Update(map[string][]byte{"tls.crt": crt2, "tls.key": key2})
	waitSerial(2)

	// A certificate with another pair's key: the last good pair stays.
	crt3, _ := selfSigned(t, 3)
	vol.Update(map[string][]byte{"tls.crt": crt3, "tls.key": key1})
	deadline := time.Now().Add(5 * time.Second)
	for logs.FilterLevelExact(zapcore.WarnLevel).Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no Warning for a mismatched pair within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := servedSerial(t, addr); got != 2 {
		t.Fatalf("serial %d served after a mismatched pair, want the last good 2", got)
	}
	// Half written: the certificate cut short.
	vol.Update(map[string][]byte{"tls.crt": crt3[:len(crt3)/2], "tls.key": key2})
	deadline = time.Now().Add(5 * time.Second)
	for logs.FilterLevelExact(zapcore.WarnLevel).Len() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no Warning for a half-written certificate within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := servedSerial(t, addr); got != 2 {
		t.Fatalf("serial %d served after a half-written certificate, want the last good 2", got)
	}
	// The handshake reads no file: with the volume gone, it still works.
	if err := os.RemoveAll(vol.Dir); err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr); got != 2 {
		t.Fatalf("serial %d served with the files gone, want 2", got)
	}
}
