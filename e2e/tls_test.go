package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// cert is a test certificate and its key, as PEM and as the leaf DER.
type cert struct {
	crt, key []byte
	der      []byte
}

var serial int64 = 1000

// newCert makes a self-signed certificate for hosts, like the seed's
// `openssl req -x509 -subj /CN=app.example.com`.
func newCert(t testing.TB, notAfter time.Time, hosts ...string) cert {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: hosts[0], Organization: []string{"example"}},
		DNSNames: hosts, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	return cert{
		crt: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}),
		der: der,
	}
}

func putTLSSecret(t testing.TB, ns, name string, c cert) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: c.crt, corev1.TLSPrivateKeyKey: c.key}}
	secrets := env.client.CoreV1().Secrets(ns)
	ctx := context.Background()
	if cur, err := secrets.Get(ctx, name, metav1.GetOptions{}); err == nil {
		s.ResourceVersion = cur.ResourceVersion
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// handshake connects to the HTTPS port with SNI name and returns the leaf
// certificate served and the negotiated ALPN protocol.
func handshake(sni string) (*x509.Certificate, string, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", env.portico.httpsPort), &tls.Config{
		ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}, //nolint:gosec // we check the certificate ourselves
	})
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return st.PeerCertificates[0], st.NegotiatedProtocol, nil
}

// servesCert waits until SNI name gets certificate c.
func servesCert(t *testing.T, sni string, c cert) {
	t.Helper()
	eventually(t, sni+" serves the expected certificate", func() error {
		leaf, _, err := handshake(sni)
		if err != nil {
			return err
		}
		if !bytes.Equal(leaf.Raw, c.der) {
			return fmt.Errorf("served %q (serial %s)", leaf.Subject.CommonName, leaf.SerialNumber)
		}
		return nil
	})
}

// httpsClient trusts only c and reaches Portico's HTTPS port for any host.
func httpsClient(c cert) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.crt)
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", env.portico.httpsPort))
			},
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			ForceAttemptHTTP2: true,
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func httpsGet(c *http.Client, host, path string) (*http.Response, *echo.Response, error) {
	resp, err := c.Get("https://" + host + path)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, nil, err
	}
	var e echo.Response
	if resp.Header.Get("X-Echo-Pod") != "" {
		if err := json.Unmarshal(body, &e); err != nil {
			return resp, nil, err
		}
		return resp, &e, nil
	}
	return resp, nil, fmt.Errorf("%s: %s", resp.Status, short(string(body)))
}

// Seed 000, "TLS 종단": app.example.com with a Secret, ssl-redirect, HSTS,
// HTTP/2, the default certificate for other names.
func TestTLSTermination(t *testing.T) {
	ns := namespace(t, "tls")
	api := newApp(t, ns, "api-service", 1, "")
	fe := newApp(t, ns, "frontend-service", 1, "")
	c := newCert(t, time.Now().AddDate(1, 0, 0), "app.example.com")
	putTLSSecret(t, ns, "app-tls-secret", c)
	ing := newIngress(ns, "tls-ingress", map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "true"},
		hostRule("app.example.com", prefixPath("/api", "api-service"), prefixPath("/", "frontend-service")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"app.example.com"}, SecretName: "app-tls-secret"}}
	createIngress(t, ing)

	servesCert(t, "app.example.com", c)
	client := httpsClient(c)
	var resp *http.Response
	var e *echo.Response
	eventually(t, "https://app.example.com/api served by api", func() error {
		var err error
		resp, e, err = httpsGet(client, "app.example.com", "/api")
		if err == nil && e.Service != api.name {
			err = fmt.Errorf("served by %s", e.Service)
		}
		return err
	})
	if got := e.Headers["X-Forwarded-Proto"]; len(got) == 0 || got[0] != "https" {
		t.Errorf("backend saw X-Forwarded-Proto %v, want https", got)
	}
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("HTTPS answered with %s, want HTTP/2.0", resp.Proto)
	}
	// The Lua router serves this host and sets HSTS itself, once.
	routedInLua(t, "app.example.com")
	if got := resp.Header.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != "max-age=31536000; includeSubDomains" {
		t.Errorf("Strict-Transport-Security = %q", got)
	}
	if _, e, err := httpsGet(client, "app.example.com", "/"); err != nil || e.Service != fe.name {
		t.Errorf("https / → %v %v, want frontend", e, err)
	}

	r := get(t, "app.example.com", "/some/path?q=1")

	if want := "https://app.example.com/some/path?q=1"; r.code != 308 {
		t.Errorf("http → %d, want 308 to %s", r.code, want)
	}
	if r := get(t, "app.example.com", "/api"); r.code != 308 || r.echo != nil {
		t.Errorf("http /api → %d, want a redirect before proxying", r.code)
	}
	resp2, err := noProxyClient.Do(mustRequest(t, "app.example.com", "/x?y=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	// As ingress-nginx writes it: no port (use-port-in-redirects adds it).
	if loc, want := resp2.Header.Get("Location"), "https://app.example.com/x?y=1"; loc != want {
		t.Errorf("Location = %q, want %q", loc, want)
	}
	if resp2.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}

	leaf, alpn, err := handshake("unknown.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "Portico Default Certificate" {
		t.Errorf("unknown SNI got %q, want the default certificate", leaf.Subject.CommonName)
	}
	if alpn != "h2" {
		t.Errorf("ALPN = %q, want h2", alpn)
	}
}

func mustRequest(t *testing.T, host, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", env.portico.httpPort, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	return req
}

// Certificate rotation, as cert-manager renews: the new certificate is
// served within seconds, no request fails, nginx does not reload. A Secret
// created after its Ingress is picked up the same way.
func TestTLSRotationWithoutReloadOrFailures(t *testing.T) {
	ns := namespace(t, "rotate")
	a := newApp(t, ns, "a", 2, "")
	first := newCert(t, time.Now().AddDate(0, 1, 0), "rotate.example.com")
	putTLSSecret(t, ns, "rotate-tls", first)
	ing := newIngress(ns, "rotate", nil, hostRule("rotate.example.com", prefixPath("/", "a")),
		hostRule("late.example.com", prefixPath("/", "a")))
	ing.Spec.TLS = []networkingv1.IngressTLS{
		{Hosts: []string{"rotate.example.com"}, SecretName: "rotate-tls"},
		{Hosts: []string{"late.example.com"}, SecretName: "late-tls"},
	}
	createIngress(t, ing)
	servesCert(t, "rotate.example.com", first)
	before := mustStatus(t).Nginx.Reloads

	// The late Secret does not exist yet: default certificate and an Event.
	if leaf, _, err := handshake("late.example.com"); err != nil || leaf.Subject.CommonName != "Portico Default Certificate" {
		t.Errorf("late.example.com without its Secret: %v %v, want the default certificate", leaf, err)
	}
	eventually(t, "Warning Event about the missing Secret", func() error {
		evs, err := warningEvents(ns, "rotate")
		if err != nil {
			return err
		}
		if !strings.Contains(strings.Join(evs, "\n"), "InvalidTLSSecret: spec.tls[1].secretName: secret "+ns+"/late-tls does not exist") {
			return fmt.Errorf("events: %v", evs)
		}
		return nil
	})

	// Rotate under load: new TLS connections, one after another.
	second := newCert(t, time.Now().AddDate(0, 3, 0), "rotate.example.com")
	var mu sync.Mutex
	var failures []string
	sent := 0
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(first.crt)
	pool.AppendCertsFromPEM(second.crt)
	client := httpsClient(first)
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(time.Minute)
		for i := 0; i < 5000 && time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, e, err := httpsGet(client, "rotate.example.com", "/")
			mu.Lock()
			sent++
			if err != nil || e.Service != a.name {
				failures = append(failures, fmt.Sprint(err))
			}
			mu.Unlock()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	putTLSSecret(t, ns, "rotate-tls", second)
	start := time.Now()
	servesCert(t, "rotate.example.com", second)
	took := time.Since(start)
	late := newCert(t, time.Now().AddDate(0, 1, 0), "late.example.com")
	putTLSSecret(t, ns, "late-tls", late)
	servesCert(t, "late.example.com", late)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-done
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during rotation, first: %s", len(failures), sent, failures[0])
	}
	if took > 5*time.Second {
		t.Errorf("new certificate served after %s, want seconds", took)
	}
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("rotation reloaded nginx %d times; certificates are pushed", after-before)
	}
	t.Logf("rotation: %d requests, %d failed, new certificate live after %s", sent, len(failures), took.Round(time.Millisecond))
}

// A missing or malformed Secret (key not matching, expired, bad PEM) is
// reported; its host keeps serving with the default certificate and other
// hosts are untouched.
func TestBadTLSSecret(t *testing.T) {
	ns := namespace(t, "badtls")
	a := newApp(t, ns, "a", 1, "")
	good := newCert(t, time.Now().AddDate(1, 0, 0), "good-tls.example.com")
	putTLSSecret(t, ns, "good", good)
	other := newCert(t, time.Now().AddDate(1, 0, 0), "other.example.com")
	putTLSSecret(t, ns, "mismatched", cert{crt: good.crt, key: other.key})
	expired := newCert(t, time.Now().Add(-time.Minute), "expired.example.com")
	putTLSSecret(t, ns, "expired", expired)
	putTLSSecret(t, ns, "garbage", cert{crt: []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), key: other.key})
	bad := []string{"bad-tls.example.com", "expired.example.com", "garbage.example.com", "missing.example.com"}
	ing := newIngress(ns, "bad", nil, hostRule("good-tls.example.com", prefixPath("/", "a")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"good-tls.example.com"}, SecretName: "good"}}
	for i, secret := range []string{"mismatched", "expired", "garbage", "absent"} {
		ing.Spec.Rules = append(ing.Spec.Rules, hostRule(bad[i], prefixPath("/", "a")))
		ing.Spec.TLS = append(ing.Spec.TLS, networkingv1.IngressTLS{Hosts: []string{bad[i]}, SecretName: secret})
	}
	createIngress(t, ing)
	servesCert(t, "good-tls.example.com", good)
	for _, h := range bad {
		leaf, _, err := handshake(h)
		if err != nil || leaf.Subject.CommonName != "Portico Default Certificate" {
			t.Errorf("%s: %v %v, want the default certificate", h, leaf, err)
		}
	}
	eventually(t, "Warning Events for every bad Secret", func() error {
		evs, err := warningEvents(ns, "bad")
		if err != nil {
			return err
		}
		all := strings.Join(evs, "\n")
		for _, want := range []string{"private key does not match public key", "certificate expired at",
			"secret " + ns + "/garbage: certificate 1 of tls.crt does not parse: x509: ", "secret " + ns + "/absent does not exist"} {
			if !strings.Contains(all, want) {
				return fmt.Errorf("no %q in %v", want, evs)
			}
		}
		return nil
	})
	// Still served over HTTPS (with the default certificate).
	insecure := httpsClient(good)
	insecure.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the default certificate is self-signed
	for _, h := range bad {
		if _, e, err := httpsGet(insecure, h, "/"); err != nil || e.Service != a.name {
			t.Errorf("%s over HTTPS: %v %v", h, e, err)
		}
	}
}

// Several certificates on one listener, a wildcard certificate for a
// wildcard host, ssl-redirect off for a TLS host and force-ssl-redirect for
// a host without TLS.
func TestTLSWildcardAndRedirectAnnotations(t *testing.T) {
	ns := namespace(t, "tlsw")
	a := newApp(t, ns, "a", 1, "")
	wild := newCert(t, time.Now().AddDate(1, 0, 0), "*.wild.example.com")
	exact := newCert(t, time.Now().AddDate(1, 0, 0), "exact.wild.example.com")
	putTLSSecret(t, ns, "wild", wild)
	putTLSSecret(t, ns, "exact", exact)
	ing := newIngress(ns, "wild", map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "false"},
		hostRule("*.wild.example.com", prefixPath("/", "a")), hostRule("exact.wild.example.com", prefixPath("/", "a")))
	ing.Spec.TLS = []networkingv1.IngressTLS{
		{Hosts: []string{"*.wild.example.com"}, SecretName: "wild"},
		{Hosts: []string{"exact.wild.example.com"}, SecretName: "exact"},
	}
	createIngress(t, ing)
	createIngress(t, newIngress(ns, "forced", map[string]string{"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"},
		hostRule("forced.example.com", prefixPath("/", "a"))))

	servesCert(t, "one.wild.example.com", wild)
	servesCert(t, "exact.wild.example.com", exact)
	// A wildcard covers exactly one label, in TLS as in routing.
	if leaf, _, err := handshake("two.one.wild.example.com"); err != nil || leaf.Subject.CommonName != "Portico Default Certificate" {
		t.Errorf("two labels below the wildcard: %v %v, want the default certificate", leaf, err)
	}
	eventually(t, "https://one.wild.example.com/x served by a", func() error {
		_, e, err := httpsGet(httpsClient(wild), "one.wild.example.com", "/x")
		if err == nil && e.Service != a.name {
			err = fmt.Errorf("served by %s", e.Service)
		}
		return err
	})
	// ssl-redirect "false": plain HTTP is served, not redirected.
	servedBy(t, "one.wild.example.com", "/x", a)
	// force-ssl-redirect without a TLS section still redirects.
	eventually(t, "forced.example.com redirects", func() error {
		resp, err := noProxyClient.Do(mustRequest(t, "forced.example.com", "/p?q=1"))
		if err != nil {
			return err
		}
		resp.Body.Close()
		want := "https://forced.example.com/p?q=1"
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
			return fmt.Errorf("%d Location %q, want 308 %s", resp.StatusCode, resp.Header.Get("Location"), want)
		}
		return nil
	})
}

// issue signs a client certificate for cn with ca (nil: self-signed).
func issue(t *testing.T, cn string, ca *tls.Certificate, isCA bool) tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	parent, signer := tmpl, any(k)
	if ca != nil {
		parent, signer = ca.Leaf, ca.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}
}

// auth-tls: an HTTPS client of the host shows a certificate of the
// Secret's CA or gets 400; the backend learns who it is from the
// ssl-client-* headers. With verify-client optional, a client without a
// certificate passes with ssl-client-verify NONE.
func TestAnnotationsAuthTLS(t *testing.T) {
	ns := namespace(t, "mtls")
	a := newApp(t, ns, "a", 1, "")
	ca := issue(t, "Portico e2e client CA", nil, true)
	client := issue(t, "alice", &ca, false)
	stranger := issue(t, "mallory", nil, false)
	caSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "client-ca"},
		Data: map[string][]byte{"ca.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]})}}
	if _, err := env.client.CoreV1().Secrets(ns).Create(context.Background(), caSecret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	strict, optional, bobOnly := "mtls.example.com", "mtls-optional.example.com", "mtls-bob.example.com"
	srv := newCert(t, time.Now().AddDate(0, 1, 0), strict, optional, bobOnly)
	putTLSSecret(t, ns, "site-tls", srv)
	for _, tc := range []struct {
		name, host, verify string
		more               map[string]string
	}{
		{"strict", strict, "on", nil},
		{"optional", optional, "optional", nil},
		{"bob", bobOnly, "on", map[string]string{ann + "auth-tls-match-cn": "CN=bob", ann + "auth-tls-error-page": "https://help.example.com/certs"}},
	} {
		annotations := map[string]string{ann + "auth-tls-secret": ns + "/client-ca", ann + "auth-tls-verify-client": tc.verify,
			ann + "auth-tls-pass-certificate-to-upstream": "true"}
		maps.Copy(annotations, tc.more)
		ing := newIngress(ns, tc.name, annotations, hostRule(tc.host, prefixPath("/", "a")))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{tc.host}, SecretName: "site-tls"}}
		createIngress(t, ing)
	}
	with := func(certs ...tls.Certificate) *http.Client {
		c := httpsClient(srv)
		c.Transport.(*http.Transport).TLSClientConfig.Certificates = certs
		return c
	}
	var e *echo.Response
	eventually(t, "a client with a certificate of the CA is served", func() error {
		resp, got, err := httpsGet(with(client), strict, "/")
		if err == nil && (resp.StatusCode != 200 || got.Service != a.name) {
			err = fmt.Errorf("%d from %s", resp.StatusCode, got.Service)
		}
		e = got
		return err
	})
	h := func(name string) string { return strings.Join(e.Headers[name], ",") }
	if h("Ssl-Client-Verify") != "SUCCESS" || !strings.Contains(h("Ssl-Client-Subject-Dn"), "CN=alice") ||
		!strings.Contains(h("Ssl-Client-Issuer-Dn"), "CN=Portico e2e client CA") || !strings.Contains(h("Ssl-Client-Cert"), "BEGIN%20CERTIFICATE") {
		t.Errorf("backend headers: verify %q, subject %q, issuer %q, cert %.40q", h("Ssl-Client-Verify"), h("Ssl-Client-Subject-Dn"),
			h("Ssl-Client-Issuer-Dn"), h("Ssl-Client-Cert"))
	}
	for _, tc := range []struct {
		what string
		c    *http.Client
	}{{"no certificate", with()}, {"a certificate of another CA", with(stranger)}} {
		// Just after a reload a connection may still reach an old worker,
		// whose configuration has no server block for the host yet.
		eventually(t, tc.what+": 400 from nginx", func() error {
			resp, err := tc.c.Get("https://" + strict + "/")
			if err != nil {
				return fmt.Errorf("%v, want an HTTP 400", err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 || resp.Header.Get(echo.PodHeader) != "" {
				return fmt.Errorf("%d (pod %q), want 400 from nginx", resp.StatusCode, resp.Header.Get(echo.PodHeader))
			}
			return nil
		})
	}
	// auth-tls-match-cn: alice's valid certificate is not bob's: 403;
	// auth-tls-error-page: no certificate redirects there.
	eventually(t, "match-cn refuses another subject", func() error {
		resp, err := with(client).Get("https://" + bobOnly + "/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			return fmt.Errorf("alice on a CN=bob host: %d, want 403", resp.StatusCode)
		}
		return nil
	})
	eventually(t, "no certificate on a host with an error page", func() error {
		resp, err := with().Get("https://" + bobOnly + "/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != "https://help.example.com/certs" {
			return fmt.Errorf("%d to %q, want 302 to https://help.example.com/certs", resp.StatusCode, loc)
		}
		return nil
	})
	eventually(t, "optional: a client without a certificate passes", func() error {
		resp, got, err := httpsGet(with(), optional, "/")
		if err == nil && (resp.StatusCode != 200 || strings.Join(got.Headers["Ssl-Client-Verify"], "") != "NONE") {
			err = fmt.Errorf("%d, ssl-client-verify %q; want 200 with NONE", resp.StatusCode, got.Headers["Ssl-Client-Verify"])
		}
		return err
	})
}
