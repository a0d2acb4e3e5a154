package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newRSACert is newCert with an RSA key: the DHE-RSA ciphers need one.
func newRSACert(t testing.TB, hosts ...string) cert {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	return cert{crt: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), der: der}
}

// rawGet sends a GET of path with Host host and the extra header lines to
// addr over a connection of its own, and reads the answer.
func rawGet(addr, host, path string, headers ...string) (*http.Response, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// redirects waits until http://host/path answers code with Location loc.
func redirects(t *testing.T, host, path string, code int, loc string) {
	t.Helper()
	eventually(t, fmt.Sprintf("http://%s%s redirects %d to %s", host, path, code, loc), func() error {
		resp, err := noProxyClient.Do(mustRequest(t, host, path))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != code || resp.Header.Get("Location") != loc {
			return fmt.Errorf("%d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return nil
	})
}

// resumes connects twice to the HTTPS port over TLS 1.2 with SNI name and
// one session cache, and reports whether the second handshake resumed the
// first's session. Go resumes TLS 1.2 sessions only from tickets, so this
// tells whether nginx issues them (ssl-session-tickets).
func resumes(name string) (bool, error) {
	cfg := &tls.Config{ServerName: name, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, //nolint:gosec // any certificate
		ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	var resumed bool
	for range 2 {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", env.portico.httpsPort), cfg)
		if err != nil {
			return false, err
		}
		resumed = c.ConnectionState().DidResume
		c.Close()
	}
	return resumed, nil
}

// dheHandshake asks the HTTPS port for a TLS 1.2 handshake offering only
// a DHE cipher (Go's TLS has none: openssl s_client); it returns the
// cipher nginx chose, or the error.
func dheHandshake(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", env.portico.httpsPort),
		"-servername", name, "-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("openssl s_client: %v: %s", err, short(string(out)))
	}
	for _, l := range strings.Split(string(out), "\n") {
		if _, c, ok := strings.Cut(l, "Cipher is "); ok {
			return strings.TrimSpace(c), nil
		}
	}
	return "", fmt.Errorf("no cipher in %s", short(string(out)))
}

// acmeSolver is the Ingress cert-manager's HTTP-01 solver creates for a
// challenge (pkg/issuer/acme/http/ingress.go): a rule of the challenge's
// host with one path, /.well-known/acme-challenge/<token>, of pathType
// Exact (its default since ACMEHTTP01IngressPathTypeExact) or
// ImplementationSpecific, to the solver's Service on port 8089, with the
// whitelist-source-range it always sets, and its labels.
func acmeSolver(t *testing.T, ns, name, host, token string, pt networkingv1.PathType) *app {
	t.Helper()
	a := newApp(t, ns, name, 1, "")
	svcs := env.client.CoreV1().Services(ns)
	svc, err := svcs.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Ports[0].Port = 8089
	if _, err := svcs.Update(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ing := newIngress(ns, name, map[string]string{"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"},
		hostRule(host, pathOf("/.well-known/acme-challenge/"+token, pt, name, 8089)))
	ing.Labels = map[string]string{"acme.cert-manager.io/http-domain": "1", "acme.cert-manager.io/http-token": "2", "acme.cert-manager.io/http01-solver": "true"}
	createIngress(t, ing)
	return a
}

// The ConfigMap's TLS keys on the real stack, on routed hosts and on
// server blocks alike (dynamic-routing), as cert-manager's HTTP-01 flow
// needs them: its solver Ingresses (Exact and ImplementationSpecific) on
// a host whose own Ingress has TLS and ssl-redirect answer over HTTP
// (no-tls-redirect-locations), while the host's other paths, and a token
// no solver serves, redirect. Session tickets are off by default (a TLS
// 1.2 client cannot resume) and on with ssl-session-tickets; no DHE
// cipher negotiates until ssl-dh-param names a Secret with parameters;
// http-redirect-code sets the redirects to HTTPS and from-to-www's;
// ssl-reject-handshake refuses names no host has.
func TestConfigMapTLSSettings(t *testing.T) {
	ns := namespace(t, "tlsset")
	site := newApp(t, ns, "site", 1, "")
	const host, plain = "shop.tlsset.example.com", "plain.tlsset.example.com"
	c := newRSACert(t, host, "www."+host)
	putTLSSecret(t, ns, "shop-tls", c)
	ing := newIngress(ns, "shop", map[string]string{"nginx.ingress.kubernetes.io/from-to-www-redirect": "true"}, hostRule(host, prefixPath("/", "site")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "shop-tls"}}
	createIngress(t, ing)
	createIngress(t, newIngress(ns, "plain", nil, hostRule(plain, prefixPath("/", "site"))))
	exactSolver := acmeSolver(t, ns, "cm-acme-http-solver-x7k2p", host, "tok-Exact_1", networkingv1.PathTypeExact)
	implSolver := acmeSolver(t, ns, "cm-acme-http-solver-q9w4z", host, "tok-Impl_2", networkingv1.PathTypeImplementationSpecific)
	dh, err := os.ReadFile("../pkg/model/testdata/dhparam2048.pem")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dh"},
		Data: map[string][]byte{"dhparam.pem": dh}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The redirect to HTTPS names no port, as ingress-nginx writes it.
	httpsTo := func(path string) string { return "https://" + host + path }

	for _, mode := range []struct{ name, dynamic string }{{"routed", "true"}, {"server blocks", "false"}} {
		t.Run(mode.name, func(t *testing.T) {
			putConfigMap(t, map[string]string{"dynamic-routing": mode.dynamic})
			eventually(t, "the host's carrier", func() error {
				if block := strings.Contains(runningConf(t), `server_name "`+host+`"`); block != (mode.dynamic == "false") {
					return fmt.Errorf("a server block for %s: %v", host, block)
				}
				return nil
			})
			quietReloads(t) // the last ConfigMap's workers are gone
			// The challenge over HTTP, the rest to HTTPS.
			servedBy(t, host, "/.well-known/acme-challenge/tok-Exact_1", exactSolver)
			servedBy(t, host, "/.well-known/acme-challenge/tok-Impl_2", implSolver)
			redirects(t, host, "/cart?x=1", 308, httpsTo("/cart?x=1"))
			redirects(t, host, "/.well-known/acme-challenge/other", 308, httpsTo("/.well-known/acme-challenge/other"))
			redirects(t, "www."+host, "/a", 308, "http://"+host+"/a")
			eventually(t, "https served", func() error {
				_, e, err := httpsGet(httpsClient(c), host, "/cart")
				if err == nil && e.Service != site.name {
					err = fmt.Errorf("served by %s", e.Service)
				}
				return err
			})
			if resumed, err := resumes(host); err != nil || resumed {
				t.Errorf("default: TLS 1.2 resumed %v (%v); session tickets are off", resumed, err)
			}
			if cipher, err := dheHandshake(host); err == nil {
				t.Errorf("default: DHE negotiated (%s) without DH parameters", cipher)
			}
			if leaf, _, err := handshake("unknown.tlsset.example.com"); err != nil || leaf.Subject.CommonName != "Portico Default Certificate" {
				t.Errorf("default: an unknown name: %v %v, want the default certificate", leaf, err)
			}

			putConfigMap(t, map[string]string{"dynamic-routing": mode.dynamic, "ssl-dh-param": ns + "/dh", "ssl-session-tickets": "true",
				"http-redirect-code": "301", "ssl-reject-handshake": "true"})
			redirects(t, host, "/cart?x=1", 301, httpsTo("/cart?x=1"))
			redirects(t, "www."+host, "/a", 301, "http://"+host+"/a")
			servedBy(t, host, "/.well-known/acme-challenge/tok-Exact_1", exactSolver)
			eventually(t, "DHE with the DH parameters", func() error {
				cipher, err := dheHandshake(host)
				if err == nil && cipher != "DHE-RSA-AES128-GCM-SHA256" {
					err = fmt.Errorf("cipher %s", cipher)
				}
				return err
			})
			// Both handshakes must reach workers of the new config.
			eventually(t, "ssl-session-tickets: TLS 1.2 resumes", func() error {
				if resumed, err := resumes(host); err != nil || !resumed {
					return fmt.Errorf("resumed %v (%v)", resumed, err)
				}
				return nil
			})
			eventually(t, "unknown names refused", func() error {
				if _, _, err := handshake("unknown.tlsset.example.com"); err == nil {
					return fmt.Errorf("handshake for an unknown name")
				}
				return nil
			})
			if _, _, err := handshake(""); err == nil {
				t.Error("a handshake without SNI was taken")
			}
			servesCert(t, host, c)
			if leaf, _, err := handshake(plain); err != nil || leaf.Subject.CommonName != "Portico Default Certificate" {
				t.Errorf("a host without TLS: %v %v, want the default certificate", leaf, err)
			}
		})
	}
}

// ssl-session-ticket-key: with a key from the ConfigMap, a session ticket
// nginx issued still resumes after a reload (new workers, the same key;
// replicas share it the same way); without one it does not, as nginx
// makes new keys each time it loads a config.
func TestConfigMapSessionTicketKey(t *testing.T) {
	ns := namespace(t, "tickets")
	newApp(t, ns, "site", 1, "")
	const host = "tickets.example.com"
	c := newCert(t, time.Now().AddDate(1, 0, 0), host)
	putTLSSecret(t, ns, "tickets", c)
	ing := newIngress(ns, "tickets", nil, hostRule(host, prefixPath("/", "site")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "tickets"}}
	createIngress(t, ing)
	servesCert(t, host, c)
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("0123456789", 8)))
	for _, tc := range []struct {
		name string
		data map[string]string
		want bool
	}{
		{"nginx's own keys", map[string]string{"ssl-session-tickets": "true"}, false},
		{"the ConfigMap's key", map[string]string{"ssl-session-tickets": "true", "ssl-session-ticket-key": key}, true},
	} {
		putConfigMap(t, tc.data)
		quietReloads(t)
		cfg := &tls.Config{ServerName: host, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, //nolint:gosec // any certificate
			ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		dial := func() (bool, error) {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", env.portico.httpsPort), cfg)
			if err != nil {
				return false, err
			}
			defer conn.Close()
			return conn.ConnectionState().DidResume, nil
		}
		eventually(t, tc.name+": tickets resume", func() error {
			if _, err := dial(); err != nil {
				return err
			}
			if resumed, err := dial(); err != nil || !resumed {
				return fmt.Errorf("resumed %v, %v", resumed, err)
			}
			return nil
		})
		before := quietReloads(t)
		// A reload: a change nginx.conf carries.
		data := map[string]string{"keep-alive-requests": "999"}
		for k, v := range tc.data {
			data[k] = v
		}
		putConfigMap(t, data)
		eventually(t, tc.name+": reloaded", func() error {
			if after := mustStatus(t).Nginx.Reloads; after == before {
				return fmt.Errorf("no reload yet")
			}
			return nil
		})
		if resumed, err := dial(); err != nil || resumed != tc.want {
			t.Errorf("%s: after a reload resumed %v (%v), want %v", tc.name, resumed, err, tc.want)
		}
	}
}

// ocspResponder is openssl's OCSP responder on a loopback port, answering
// for the certificates ca issued, as its index lists them.
type ocspResponder struct {
	url      string
	requests atomic.Int32 // requests it answered
}

// startOCSPResponderOn writes ca's files and an index of leaf (valid, or
// revoked) into dir and starts `openssl ocsp` on port.
func startOCSPResponderOn(t *testing.T, dir string, ca tls.Certificate, leaf *x509.Certificate, revoked bool, port int) *ocspResponder {
	t.Helper()
	kd, err := x509.MarshalPKCS8PrivateKey(ca.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	status, revokedAt := "V", ""
	if revoked {
		status, revokedAt = "R", time.Now().Add(-time.Minute).UTC().Format("060102150405Z")
	}
	index := fmt.Sprintf("%s\t%s\t%s\t%X\tunknown\t/CN=%s\n", status, leaf.NotAfter.UTC().Format("060102150405Z"), revokedAt,
		leaf.SerialNumber, leaf.Subject.CommonName)
	for name, b := range map[string][]byte{
		"ca.pem":    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]}),
		"ca.key":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}),
		"index.txt": []byte(index),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "ocsp", "-index", filepath.Join(dir, "index.txt"), "-port", fmt.Sprint(port),
		"-CA", filepath.Join(dir, "ca.pem"), "-rsigner", filepath.Join(dir, "ca.pem"), "-rkey", filepath.Join(dir, "ca.key"), "-nmin", "60", "-ignore_err")
	// It answers one connection at a time: a probe's would wedge it, so
	// it is ready when it says so.
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := &ocspResponder{url: fmt.Sprintf("http://127.0.0.1:%d/", port)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			switch l := sc.Text(); {
			case strings.HasSuffix(l, "waiting for OCSP client connections..."):
				close(ready)
			case strings.Contains(l, "Received request"):
				r.requests.Add(1)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("openssl ocsp does not wait for connections")
	}
	return r
}

// stapled runs a handshake with SNI name asking for the certificate's
// status (openssl s_client -status) and returns what the server stapled:
// "" for nothing, else openssl's "Cert Status" ("good", "revoked").
func stapled(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", env.portico.httpsPort),
		"-servername", name, "-status")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("openssl s_client: %v: %s", err, short(string(out)))
	}
	if strings.Contains(string(out), "OCSP response: no response sent") {
		return "", nil
	}
	for _, l := range strings.Split(string(out), "\n") {
		if _, s, ok := strings.Cut(l, "Cert Status: "); ok {
			return strings.TrimSpace(s), nil
		}
	}
	return "", fmt.Errorf("no OCSP response status in %s", short(string(out)))
}

// enable-ocsp on the real stack, with a local OCSP responder (openssl
// ocsp) that the certificate's AIA names: nothing is stapled by default;
// with the key, the handshakes after the first staple the responder's
// "good" answer, which the certificate store fetched in the background; a
// certificate the responder says is revoked gets no staple, as nginx's
// own stapling does.
func TestConfigMapOCSP(t *testing.T) {
	ns := namespace(t, "ocsp")
	newApp(t, ns, "site", 1, "")
	ca := issue(t, "Portico e2e OCSP CA", nil, true)
	caLeaf, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	hostCert := func(name string, ocspURL string) (cert, *x509.Certificate) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		serial++
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), OCSPServer: []string{ocspURL},
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caLeaf, &k.PublicKey, ca.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		kd, _ := x509.MarshalPKCS8PrivateKey(k)
		// tls.crt carries the issuer after the leaf, as cert-manager writes it.
		chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]})...)
		return cert{crt: chain, key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), der: der}, leaf
	}
	good, revoked := "good.ocsp.example.com", "revoked.ocsp.example.com"
	goodPort, revokedPort := freePort(), freePort()
	goodCert, goodLeaf := hostCert(good, fmt.Sprintf("http://127.0.0.1:%d/", goodPort))
	revokedCert, revokedLeaf := hostCert(revoked, fmt.Sprintf("http://127.0.0.1:%d/", revokedPort))
	goodResponder := startOCSPResponderOn(t, t.TempDir(), ca, goodLeaf, false, goodPort)
	revokedResponder := startOCSPResponderOn(t, t.TempDir(), ca, revokedLeaf, true, revokedPort)
	for host, c := range map[string]cert{good: goodCert, revoked: revokedCert} {
		name := strings.Split(host, ".")[0]
		putTLSSecret(t, ns, name, c)
		ing := newIngress(ns, name, nil, hostRule(host, prefixPath("/", "site")))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: name}}
		createIngress(t, ing)
		servesCert(t, host, c)
	}
	for range 3 {
		if s, err := stapled(good); err != nil || s != "" {
			t.Fatalf("default: stapled %q (%v), want nothing", s, err)
		}
	}
	if n := goodResponder.requests.Load(); n != 0 {
		t.Errorf("default: the responder was asked %d times", n)
	}

	putConfigMap(t, map[string]string{"enable-ocsp": "true"})
	eventually(t, "the good certificate's status stapled", func() error {
		s, err := stapled(good)
		if err == nil && s != "good" {
			err = fmt.Errorf("stapled %q", s)
		}
		return err
	})
	// The revoked one: its responder answers, and nothing is stapled.
	eventually(t, "the revoked certificate's responder asked", func() error {
		if s, err := stapled(revoked); err != nil || s != "" {
			t.Fatalf("revoked: stapled %q (%v), want nothing", s, err)
		}
		if revokedResponder.requests.Load() == 0 {
			return fmt.Errorf("no request yet")
		}
		return nil
	})
	for range 3 {
		if s, err := stapled(revoked); err != nil || s != "" {
			t.Errorf("revoked, after its responder answered: stapled %q (%v), want nothing", s, err)
		}
	}
}
