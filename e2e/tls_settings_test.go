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
	"strings"
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
	httpsTo := func(path string) string { return fmt.Sprintf("https://%s:%d%s", host, env.portico.httpsPort, path) }

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
			if resumed, err := resumes(host); err != nil || !resumed {
				t.Errorf("ssl-session-tickets: TLS 1.2 resumed %v (%v)", resumed, err)
			}
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
