package e2e

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// auth-tls-verify-depth is nginx's ssl_verify_depth, as in ingress-nginx
// (the same directive, the same OpenSSL 3 reading): the number of
// intermediate CAs allowed between the client's certificate and the
// Secret's root. A client certificate under one intermediate (the client
// sends it and the intermediate's) passes at depth 1 (the default); one
// under two intermediates gets nginx's 400 at depth 1 and passes at
// depth 2. "0" is depth 1, as ingress-nginx reads it.
func TestAnnotationsAuthTLSVerifyDepth(t *testing.T) {
	ns := namespace(t, "mtlsdepth")
	a := newApp(t, ns, "a", 1, "")
	root := issue(t, "Portico e2e root CA", nil, true)
	first := issue(t, "Portico e2e intermediate CA", &root, true)
	second := issue(t, "Portico e2e second intermediate CA", &first, true)
	carol, dave := issue(t, "carol", &first, false), issue(t, "dave", &second, false)
	// What the clients send: their certificate and the intermediates'.
	oneBelow := tls.Certificate{Certificate: [][]byte{carol.Certificate[0], first.Certificate[0]}, PrivateKey: carol.PrivateKey, Leaf: carol.Leaf}
	twoBelow := tls.Certificate{Certificate: [][]byte{dave.Certificate[0], second.Certificate[0], first.Certificate[0]},
		PrivateKey: dave.PrivateKey, Leaf: dave.Leaf}
	caSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "client-ca"},
		Data: map[string][]byte{"ca.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate[0]})}}
	if _, err := env.client.CoreV1().Secrets(ns).Create(context.Background(), caSecret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hosts := map[string]string{"": "depth-default." + ns + ".example.com", "0": "depth0." + ns + ".example.com",
		"1": "depth1." + ns + ".example.com", "2": "depth2." + ns + ".example.com"}
	srv := newCert(t, time.Now().AddDate(0, 1, 0), hosts[""], hosts["0"], hosts["1"], hosts["2"])
	putTLSSecret(t, ns, "site-tls", srv)
	for depth, host := range hosts {
		annotations := map[string]string{ann + "auth-tls-secret": "client-ca"}
		if depth != "" {
			annotations[ann+"auth-tls-verify-depth"] = depth
		}
		ing := newIngress(ns, "depth"+depth, annotations, hostRule(host, prefixPath("/", "a")))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "site-tls"}}
		createIngress(t, ing)
	}
	// The client always sends its chain, whatever CA names nginx asks for.
	get := func(c tls.Certificate, host string) (int, string, error) {
		client := httpsClient(srv)
		client.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &c, nil
		}
		resp, err := client.Get("https://" + host + "/")
		if err != nil {
			return 0, "", err
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get(echo.PodHeader), nil
	}
	for _, tc := range []struct {
		depth  string
		client tls.Certificate
		served bool
	}{
		{"2", twoBelow, true},
		{"2", oneBelow, true},
		{"1", oneBelow, true},
		{"", oneBelow, true},
		{"0", oneBelow, true},
		{"1", twoBelow, false},
		{"", twoBelow, false},
		{"0", twoBelow, false},
	} {
		who := tc.client.Leaf.Subject.CommonName
		// Just after a reload a connection may still reach an old worker,
		// whose configuration has no server block for the host yet.
		eventually(t, fmt.Sprintf("depth %q, %s's certificate", tc.depth, who), func() error {
			code, pod, err := get(tc.client, hosts[tc.depth])
			switch {
			case err != nil:
				return err
			case tc.served && (code != 200 || !strings.HasPrefix(pod, a.name+"-")):
				return fmt.Errorf("%d (pod %q), want 200 from %s", code, pod, a.name)
			case !tc.served && (code != 400 || pod != ""):
				return fmt.Errorf("%d (pod %q), want 400 from nginx", code, pod)
			}
			return nil
		})
	}
	if conf := runningConf(t); !strings.Contains(conf, "ssl_verify_depth 2;") {
		t.Error("nginx.conf has no ssl_verify_depth 2")
	}
}
