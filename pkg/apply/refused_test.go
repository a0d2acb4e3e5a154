package apply_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-ingress/portico/pkg/plan"
)

// pemPair is a self-signed certificate for host and its key, as PEM.
func pemPair(t *testing.T, host string) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}

// served returns the common name of the certificate nginx shows for sni.
func (f *fixture) served(sni string) string {
	f.t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", f.opts.HTTPSPort),
		&tls.Config{ServerName: sni, InsecureSkipVerify: true}) //nolint:gosec // the test reads the certificate
	if err != nil {
		f.t.Fatalf("handshake for %s: %v", sni, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// An item a Lua endpoint refuses (defence in depth: the model lets none
// through) is refused alone: Apply succeeds, Refused names it with the
// reason, nginx serves every other item, keeps the version it held of the
// refused one, and a restarted nginx comes back with the others.
func TestRefusedItemsAreIsolated(t *testing.T) {
	f := newFixture(t)
	var changes atomic.Int32
	f.applier.OnRefused = func() { changes.Add(1) }
	a, b := backendServer(t, "a"), backendServer(t, "b")
	conf, sum := f.config(map[string]string{"/x": "ns/x:80", "/y": "ns/y:80"})
	x := plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a}}
	badY := plan.Backend{Name: "ns/y:80", Endpoints: []plan.Endpoint{{Address: "127.0.0.1", Port: 0}}}
	crt, key := pemPair(t, "good.test")
	junk := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("valid base64, not a certificate")}))
	certs := plan.Certificates{Servers: map[string]string{"good.test": "ns/good", "bad.test": "ns/bad"},
		Certificates: []plan.Certificate{{Name: "ns/bad", Cert: crt + junk, Key: key}, {Name: "ns/good", Cert: crt, Key: key}}}
	apply1 := func(bs ...plan.Backend) {
		t.Helper()
		if _, err := f.applier.Apply(context.Background(), conf, sum, dynamic(t, plan.Lua{Backends: bs, Certificates: certs}), "test"); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	refused := func() string {
		var out []string
		for _, r := range f.applier.Refused() {
			out = append(out, r.Kind+" "+r.Name)
			if r.Reason == "" || strings.Contains(r.Reason, "PRIVATE") {
				t.Errorf("refusal %+v: want a reason without key material", r)
			}
		}
		return strings.Join(out, ", ")
	}

	apply1(x, badY)
	if got := refused(); got != "backend ns/y:80, certificate ns/bad" {
		t.Fatalf("Refused() = %q", got)
	}
	if !f.applier.Loaded() {
		t.Error("not Loaded(): a refused item must not leave the push pending")
	}
	if code, body := f.get("/x"); code != 200 || body != "a" {
		t.Errorf("GET /x beside a refused backend = %d %q", code, body)
	}
	if code, body := f.get("/y"); code != 503 || !strings.Contains(body, "not configured") {
		t.Errorf("GET /y, refused = %d %q, want 503", code, body)
	}
	if cn := f.served("good.test"); cn != "good.test" {
		t.Errorf("good.test beside a refused certificate serves %q", cn)
	}
	if cn := f.served("bad.test"); cn == "good.test" {
		t.Errorf("bad.test, refused, serves %q, want the default certificate", cn)
	}

	// y fixed and x broken in one patch: y is taken, x refused, and nginx
	// keeps the x it held.
	apply1(plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{{Address: "127.0.0.1", Port: 0}}},
		plan.Backend{Name: "ns/y:80", Endpoints: []plan.Endpoint{b}})
	if got := refused(); got != "backend ns/x:80, certificate ns/bad" {
		t.Errorf("after a patch Refused() = %q", got)
	}
	if code, body := f.get("/x"); code != 200 || body != "a" {
		t.Errorf("GET /x, its new version refused = %d %q, want the one nginx held", code, body)
	}
	if code, body := f.get("/y"); code != 200 || body != "b" {
		t.Errorf("GET /y, fixed = %d %q", code, body)
	}
	// x gone: the patch deletes it from nginx too.
	apply1(plan.Backend{Name: "ns/y:80", Endpoints: []plan.Endpoint{b}})
	if code, _ := f.get("/x"); code != 503 {
		t.Errorf("GET /x, deleted = %d, want 503", code)
	}
	if got := refused(); got != "certificate ns/bad" {
		t.Errorf("after x went Refused() = %q", got)
	}
	if n := f.applier.Stats().Patches; n < 2 {
		t.Errorf("%d patches, want the backends changes sent as patches", n)
	}

	// nginx dies with the bad certificate present: the new one serves the
	// rest again.
	f.killMaster(t)
	if code, body := f.get("/y"); code != 200 || body != "b" {
		t.Errorf("after the restart GET /y = %d %q", code, body)
	}
	if cn := f.served("good.test"); cn != "good.test" {
		t.Errorf("after the restart good.test serves %q", cn)
	}
	if got := refused(); got != "certificate ns/bad" {
		t.Errorf("after the restart Refused() = %q", got)
	}
	if changes.Load() < 3 {
		t.Errorf("OnRefused called %d times, want once per change of the refusals", changes.Load())
	}
}
