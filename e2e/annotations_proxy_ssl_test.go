package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// proxy-ssl-protocols, proxy-ssl-ciphers and proxy-ssl-verify-depth, as
// ingress-nginx has them, against HTTPS backends that nginx checks
// (proxy-ssl-secret with the CA, proxy-ssl-verify on), on routed and
// static hosts:
//   - protocols: TLSv1.3 against a backend of TLS 1.2 only fails (502),
//     "TLSv1.2 TLSv1.3" reaches it; TLSv1.2 against a backend of TLS 1.3
//     only fails; unset, or a value outside that grammar (ingress-nginx
//     warns and serves the Ingress), TLSv1.2 alone, as ingress-nginx
//     offers with proxy-ssl-secret: a backend of TLS 1.3 only fails; without
//     proxy-ssl-secret nginx offers both;
//   - ciphers: a list the backend shares no suite of fails, one it shares
//     reaches it, a value outside the grammar is nginx's DEFAULT (the
//     Ingress is served, as ingress-nginx warns and serves it);
//   - verify-depth counts the intermediate CAs between the backend's
//     certificate and the trusted root, as OpenSSL does: a chain with two
//     fails at 1 (nginx's and ingress-nginx's default) and passes at 2; a
//     chain with one passes at 1.
func TestAnnotationsProxySSLSettings(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "proxysslset")
	root := newChainCA(t, "root", nil)
	inter1 := newChainCA(t, "intermediate 1", root)
	inter2 := newChainCA(t, "intermediate 2", inter1)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend-ca"}, Data: map[string][]byte{"ca.crt": root.pem}}
	if _, err := env.client.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	backends := map[string]*app{
		"v12":  newChainedTLSApp(t, ns, "v12", root, "--tls-version=1.2", "--tls-ciphers=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
		"v13":  newChainedTLSApp(t, ns, "v13", root, "--tls-version=1.3"),
		"one":  newChainedTLSApp(t, ns, "one", inter1),
		"deep": newChainedTLSApp(t, ns, "deep", inter2),
	}
	for _, tc := range []struct {
		name, backend string
		kv            map[string]string
		code          int
		// loaded is what nginx.conf has when it is not kv's value.
		loaded []string
	}{
		{"p13", "v12", map[string]string{"proxy-ssl-protocols": "TLSv1.3"}, 502, nil},
		{"p1213", "v12", map[string]string{"proxy-ssl-protocols": "TLSv1.2 TLSv1.3"}, 200, nil},
		{"p12", "v13", map[string]string{"proxy-ssl-protocols": "TLSv1.2"}, 502, nil},
		{"pdefault", "v13", nil, 502, []string{"proxy_ssl_protocols TLSv1.2;"}},
		{"pbad", "v13", map[string]string{"proxy-ssl-protocols": "TLSv1.1 TLSv1.3"}, 502, []string{"proxy_ssl_protocols TLSv1.2;"}},
		{"pdefault12", "v12", nil, 200, nil},
		{"cnone", "v12", map[string]string{"proxy-ssl-ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"}, 502, nil},
		{"cbad", "v12", map[string]string{"proxy-ssl-ciphers": "HIGH ECDHE"}, 200, []string{}},
		{"cshared", "v12", map[string]string{"proxy-ssl-ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"}, 200, nil},
		{"d1", "deep", map[string]string{"proxy-ssl-verify-depth": "1"}, 502, nil},
		{"ddefault", "deep", nil, 502, nil},
		{"d2", "deep", map[string]string{"proxy-ssl-verify-depth": "2"}, 200, nil},
		{"d1one", "one", map[string]string{"proxy-ssl-verify-depth": "1"}, 200, nil},
		{"unchecked", "v13", nil, 200, nil},
	} {
		b := backends[tc.backend]
		kv := map[string]string{"backend-protocol": "HTTPS"}
		if tc.name != "unchecked" {
			kv["proxy-ssl-secret"] = ns + "/backend-ca"
			kv["proxy-ssl-verify"] = "on"
			kv["proxy-ssl-name"] = b.name + ".internal"
			kv["proxy-ssl-server-name"] = "on"
		}
		for n, v := range tc.kv {
			kv[n] = v
		}
		kinds := hostKinds(tc.name + "." + ns + ".example.com")
		for _, k := range kinds {
			createIngress(t, newIngress(ns, tc.name+"-"+k.name, k.annotations(kv), hostRule(k.host, prefixPath("/", b.name))))
		}
		for _, k := range kinds {
			what := fmt.Sprintf("%s host, %s: %s backend with %v", k.name, tc.name, tc.backend, tc.kv)
			if tc.code == 200 {
				expect(t, what, "GET", k.host, "/", nil, "", fromApp(b, 200))
			} else {
				expect(t, what, "GET", k.host, "/", nil, "", func(r reply) error {
					if r.code != tc.code || r.echo != nil {
						return fmt.Errorf("want nginx's %d", tc.code)
					}
					return nil
				})
			}
		}
		checkKinds(t, kinds)
		want := tc.loaded
		for n, v := range tc.kv {
			if tc.loaded != nil {
				break
			}
			switch n {
			case "proxy-ssl-protocols":
				want = append(want, "proxy_ssl_protocols "+v+";")
			case "proxy-ssl-ciphers":
				want = append(want, `proxy_ssl_ciphers "`+v+`";`)
			case "proxy-ssl-verify-depth":
				want = append(want, "proxy_ssl_verify_depth "+v+";")
			}
		}
		loads(t, kinds, want...)
	}
}

// chainCA is a CA certificate and its key; pem is its certificate and
// those of the CAs above it but the root, the chain a server sends after
// its own certificate.
type chainCA struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	pem   []byte
	chain []byte
}

// newChainCA makes a root CA (parent nil) or an intermediate one signed by
// parent.
func newChainCA(t *testing.T, name string, parent *chainCA) *chainCA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name, Organization: []string{"example"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	signer, signKey := tmpl, k
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &k.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &chainCA{cert: c, key: k, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	if parent != nil {
		ca.chain = append(append([]byte{}, ca.pem...), parent.chain...)
	}
	return ca
}

// newChainedTLSApp is newTLSApp whose pod's certificate for
// <name>.internal is signed by ca and sent with ca's chain; flags are
// more echoserver flags.
func newChainedTLSApp(t *testing.T, ns, name string, ca *chainCA, flags ...string) *app {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name + ".internal"}, DNSNames: []string{name + ".internal"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	crt := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.chain...)
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
	return newOnePodApp(t, ns, name, 80, 8443, func(h *framework.Host, pod string, port int) (*framework.Echo, error) {
		return framework.StartEchoTLS(context.Background(), h, name, pod, port, crt, key, t.TempDir(), flags...)
	})
}
