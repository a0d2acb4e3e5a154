package model

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// selfSigned returns PEM cert and key for hosts, valid from notBefore to
// notAfter.
func selfSigned(t *testing.T, notBefore, notAfter time.Time, hosts ...string) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

func tlsSecret(ns, name string, crt, key []byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}
}

func TestBuildTLS(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	year := now.AddDate(1, 0, 0)
	goodCrt, goodKey := selfSigned(t, now.AddDate(0, -1, 0), year, "app.example.com")
	wildCrt, wildKey := selfSigned(t, now.AddDate(0, -1, 0), year, "*.example.com")
	oldCrt, oldKey := selfSigned(t, now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0), "old.example.com")
	_, otherKey := selfSigned(t, now.AddDate(0, -1, 0), year, "x.example.com")
	svcs, slices := labObjects()
	secrets := []*corev1.Secret{
		tlsSecret("lab", "app-tls", goodCrt, goodKey),
		tlsSecret("lab", "wild-tls", wildCrt, wildKey),
		tlsSecret("lab", "expired", oldCrt, oldKey),
		tlsSecret("lab", "mismatch", goodCrt, otherKey),
	}
	api := "lab/api-service:80"
	ref := IngressRef{"lab", "tls"}
	in := Input{
		Ingresses: []*networkingv1.Ingress{
			ingress("lab", "tls", withTLS("app-tls", "app.example.com"), withTLS("wild-tls", "*.example.com"),
				rule("app.example.com", path("/", prefix, "api-service", 80)),
				rule("*.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "no-redirect", created(1), annotate(annotations.Prefix+"ssl-redirect", "false"), withTLS("expired", "old.example.com"),
				rule("old.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "forced", created(2), annotate(annotations.Prefix+"force-ssl-redirect", "true"), withTLS("missing", "gone.example.com"),
				withTLS("mismatch", "mismatch.example.com"),
				rule("plain.example.com", path("/", prefix, "api-service", 80))),
		},
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       svcs, EndpointSlices: slices, Secrets: secrets, Options: defaultOptions, Now: now,
	}
	got := Build(in)
	redirect := func(l *Location) *Location { l.SSLRedirect = true; return l }
	wantServers := []*Server{
		catchAll(),
		{Host: "*.example.com", TLS: &ServerTLS{Certificate: "lab/wild-tls"},
			Locations: []*Location{redirect(loc(ModPrefix, "/", api, "lab", "tls"))}},
		{Host: "app.example.com", TLS: &ServerTLS{Certificate: "lab/app-tls"},
			Locations: []*Location{redirect(loc(ModPrefix, "/", api, "lab", "tls"))}},
		{Host: "gone.example.com", TLS: &ServerTLS{},
			Locations: []*Location{redirect(loc(ModPrefix, "/", "", "", ""))}},
		{Host: "mismatch.example.com", TLS: &ServerTLS{},
			Locations: []*Location{redirect(loc(ModPrefix, "/", "", "", ""))}},
		{Host: "old.example.com", TLS: &ServerTLS{},
			Locations: []*Location{loc(ModPrefix, "/", api, "lab", "no-redirect")}},
		{Host: "plain.example.com",
			Locations: []*Location{redirect(loc(ModPrefix, "/", api, "lab", "forced"))}},
	}
	if diff := cmp.Diff(wantServers, got.Servers); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	wantCerts := []*Certificate{
		{Name: "lab/app-tls", NotAfter: year, DNSNames: []string{"app.example.com"}, Serial: "1"},
		{Name: "lab/wild-tls", NotAfter: year, DNSNames: []string{"*.example.com"}, Serial: "1"},
	}
	if diff := cmp.Diff(wantCerts, got.Certificates, cmpopts.IgnoreFields(Certificate{}, "CertPEM", "KeyPEM")); diff != "" {
		t.Errorf("certificates (-want +got):\n%s", diff)
	}
	for _, c := range got.Certificates {
		if _, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM)); err != nil {
			t.Errorf("%s: re-encoded PEM is not a key pair: %v", c.Name, err)
		}
	}
	wantDiags := []diag.Diagnostic{
		warn("Ingress", "lab", "forced", "spec.tls[0].secretName", "InvalidTLSSecret",
			"secret lab/missing does not exist; hosts [gone.example.com] are served with the default certificate"),
		warn("Ingress", "lab", "forced", "spec.tls[1].secretName", "InvalidTLSSecret",
			"secret lab/mismatch: tls: private key does not match public key; hosts [mismatch.example.com] are served with the default certificate"),
		warn("Ingress", "lab", "no-redirect", "spec.tls[0].secretName", "InvalidTLSSecret",
			"secret lab/expired: certificate expired at 2025-06-01T00:00:00Z; hosts [old.example.com] are served with the default certificate"),
	}
	if diff := cmp.Diff(wantDiags, got.Diagnostics); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	_ = ref

	// The ConfigMap can turn redirects off by default.
	in.ConfigMap = &corev1.ConfigMap{ObjectMeta: metaNS("ingress-nginx", "portico"), Data: map[string]string{"ssl-redirect": "false", "hsts": "false"}}
	got = Build(in)
	if got.Global.HSTS != "" || got.Global.SSLRedirect {
		t.Errorf("ConfigMap did not turn HSTS and ssl-redirect off: %+v", got.Global)
	}
	for _, s := range got.Servers {
		for _, l := range s.Locations {
			if l.SSLRedirect != (s.Host == "plain.example.com") {
				t.Errorf("%s%s: SSLRedirect=%v with ssl-redirect off (only force-ssl-redirect should redirect)", s.Host, l.Path, l.SSLRedirect)
			}
		}
	}
}

func TestConfigMapTLSOptions(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metaNS("ingress-nginx", "portico"), Data: map[string]string{
		"hsts-max-age": "600", "hsts-preload": "true", "hsts-include-subdomains": "false",
		"ssl-protocols": "TLSv1.3", "ssl-ciphers": "ECDHE-RSA-AES128-GCM-SHA256",
	}}
	g, ds := parseConfigMap(cm)
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	if g.HSTS != "max-age=600; preload" || len(g.SSLProtocols) != 1 || g.SSLProtocols[0] != "TLSv1.3" || g.SSLCiphers != "ECDHE-RSA-AES128-GCM-SHA256" {
		t.Fatalf("global = %+v", g)
	}
	for k, v := range map[string]string{
		"ssl-protocols": "TLSv1.2; include /etc/passwd", "ssl-ciphers": `HIGH"; return 200 "x`, "hsts-max-age": "-1", "hsts": "yes please",
	} {
		g, ds := parseConfigMap(&corev1.ConfigMap{ObjectMeta: metaNS("ingress-nginx", "portico"), Data: map[string]string{k: v}})
		if len(ds) != 1 || ds[0].Reason != "InvalidOption" || ds[0].Severity != diag.Error {
			t.Errorf("%s=%q: diagnostics %v, want one InvalidOption error", k, v, ds)
		}
		if diff := cmp.Diff(defaultGlobal, g); diff != "" {
			t.Errorf("%s=%q changed the global config:\n%s", k, v, diff)
		}
	}
}

// auth-tls: the CA bundle becomes a file of its own and the host a server
// block that sends the ssl-client-* headers; a Secret that cannot give
// it refuses the Ingress, and so does a rule without a host.
func TestBuildClientTLS(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	caCrt, _ := selfSigned(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), "ca.example")
	svcs, eps := labObjects()
	caSecret := func(name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name}, Data: data}
	}
	secrets := []*corev1.Secret{
		caSecret("ca", map[string][]byte{"ca.crt": append([]byte("junk before\n"), caCrt...)}),
		caSecret("no-ca", map[string][]byte{"tls.crt": caCrt}),
		caSecret("bad-ca", map[string][]byte{"ca.crt": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}),
	}
	mtls := func(name, host, secret string, more ...ingOpt) *networkingv1.Ingress {
		opts := append([]ingOpt{annotate(annotations.Prefix+"auth-tls-secret", secret), annotate(annotations.Prefix+"auth-tls-verify-depth", "2"),
			rule(host, path("/", prefix, "api-service", 80))}, more...)
		return ingress("lab", name, opts...)
	}
	cfg := Build(Input{
		Ingresses: []*networkingv1.Ingress{
			mtls("good", "m.example.com", "lab/ca"),
			mtls("other-ns", "o.example.com", "kube-system/ca"),
			mtls("missing", "x.example.com", "nope"),
			mtls("no-key", "y.example.com", "no-ca"),
			mtls("bad", "z.example.com", "bad-ca"),
			mtls("hostless", "", "ca"),
		},
		IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: eps, Secrets: secrets, Options: defaultOptions,
	})
	var got []string
	for _, d := range cfg.Diagnostics {
		if d.Reason == "InvalidAuthTLSSecret" {
			got = append(got, d.Object.Name+": "+d.Message)
		}
	}
	want := []string{
		"bad: secret lab/bad-ca: certificate 1 of ca.crt does not parse: x509: malformed certificate; the Ingress is refused",
		"hostless: auth-tls needs every rule to name a host: the rules without a host are served by the catch-all server, which asks no client for a certificate; the Ingress is refused",
		"missing: secret lab/nope does not exist; the Ingress is refused",
		"no-key: secret lab/no-ca has no key ca.crt; the Ingress is refused",
		"other-ns: secret kube-system/ca is not in the Ingress's namespace (allow-cross-namespace-resources is false); the Ingress is refused",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	var m *Server
	for _, s := range cfg.Servers {
		if s.Host == "m.example.com" {
			m = s
		}
		// A refused Ingress's paths answer 503; it asks for no client
		// certificate.
		if s.Host == "o.example.com" || s.Host == "x.example.com" {
			if l := s.Locations[0]; s.ClientTLS != nil || !strings.HasSuffix(l.Backend, "@refused") {
				t.Errorf("server %q: %+v, location %+v", s.Host, s.ClientTLS, l)
			}
		}
		if s.Host == "" && s.ClientTLS != nil {
			t.Errorf("the catch-all server asks for client certificates: %+v", s.ClientTLS)
		}
	}
	if m == nil || m.ClientTLS == nil {
		t.Fatalf("m.example.com: %+v; want ClientTLS", m)
	}
	if m.ClientTLS.Verify != "on" || m.ClientTLS.Depth != 2 || m.ClientTLS.PassCertificate {
		t.Errorf("ClientTLS = %+v", m.ClientTLS)
	}
	var file *AuthFile
	for _, f := range cfg.AuthFiles {
		if f.Name == m.ClientTLS.File {
			file = f
		}
	}
	if file == nil || file.Content != string(caCrt) {
		t.Errorf("CA file %s: %+v; want the certificate re-encoded, without what surrounds it", m.ClientTLS.File, file)
	}
	for _, l := range m.Locations {
		if l.Backend != "" && (len(l.Headers) != 3 || l.Headers[0] != (Header{Name: "ssl-client-verify", Var: "ssl_client_verify"})) {
			t.Errorf("location %s headers %v; want the ssl-client-* headers", l.Path, l.Headers)
		}
	}
}

// proxy-ssl-secret: ca.crt becomes the trusted file, tls.crt and tls.key
// the client certificate files; a Secret that cannot give them refuses
// the Ingress.
func TestBuildProxySSL(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	caCrt, _ := selfSigned(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), "ca.example")
	crt, key := selfSigned(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), "client.example")
	_, otherKey := selfSigned(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), "other.example")
	svcs, eps := labObjects()
	sec := func(name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name}, Data: data}
	}
	secrets := []*corev1.Secret{
		sec("full", map[string][]byte{"ca.crt": caCrt, "tls.crt": crt, "tls.key": key}),
		sec("ca-only", map[string][]byte{"ca.crt": caCrt}),
		sec("half", map[string][]byte{"ca.crt": caCrt, "tls.crt": crt}),
		sec("mismatch", map[string][]byte{"ca.crt": caCrt, "tls.crt": crt, "tls.key": otherKey}),
		sec("no-ca", map[string][]byte{"tls.crt": crt, "tls.key": key}),
		sec("junk-chain", map[string][]byte{"ca.crt": caCrt, "tls.key": key,
			"tls.crt": append(crt, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"...)}),
	}
	ing := func(name, secret string) *networkingv1.Ingress {
		return ingress("lab", name, annotate(annotations.Prefix+"backend-protocol", "HTTPS"), annotate(annotations.Prefix+"proxy-ssl-secret", secret),
			annotate(annotations.Prefix+"proxy-ssl-verify", "on"), rule(name+".example.com", path("/", prefix, "api-service", 80)))
	}
	cfg := Build(Input{
		Ingresses:      []*networkingv1.Ingress{ing("full", "full"), ing("ca-only", "ca-only"), ing("half", "half"), ing("mismatch", "mismatch"), ing("no-ca", "no-ca"), ing("junk-chain", "junk-chain")},
		IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: eps, Secrets: secrets, Options: defaultOptions,
	})
	refused := map[string]bool{}
	for _, d := range cfg.Diagnostics {
		if d.Reason == "InvalidProxySSLSecret" {
			refused[d.Object.Name] = true
		}
	}
	if want := map[string]bool{"half": true, "mismatch": true, "no-ca": true, "junk-chain": true}; !cmp.Equal(refused, want) {
		t.Errorf("refused %v, want %v (diagnostics %v)", refused, want, cfg.Diagnostics)
	}
	files := map[string]string{}
	for _, f := range cfg.AuthFiles {
		files[f.Name] = f.Content
	}
	checked := 0
	for _, s := range cfg.Servers {
		if s.Host != "full.example.com" && s.Host != "ca-only.example.com" {
			continue
		}
		checked++
		ssl := s.Locations[0].Proxy.SSL
		if ssl == nil || ssl.Verify != "on" || files[ssl.Trusted] != string(caCrt) {
			t.Fatalf("%s: SSL %+v; want the CA file and verify on", s.Host, ssl)
		}
		if wantCert := s.Host == "full.example.com"; (ssl.Cert != "") != wantCert || (ssl.Key != "") != wantCert {
			t.Errorf("%s: client certificate files %q %q", s.Host, ssl.Cert, ssl.Key)
		}
		if ssl.Cert != "" && (files[ssl.Cert] != string(crt) || !strings.Contains(files[ssl.Key], "PRIVATE KEY")) {
			t.Errorf("%s: client certificate files hold %q and %q", s.Host, files[ssl.Cert], files[ssl.Key])
		}
	}
	if checked != 2 {
		t.Errorf("%d of the 2 hosts with proxy-ssl are served", checked)
	}
}

// Every PEM block of a tls.crt is a certificate that parses: a junk block,
// another kind of block, trailing text or a huge chain refuses the Secret
// (the Lua certificate store would refuse the whole push otherwise); the
// chain that passes is re-encoded from the parsed certificates only.
func TestParseCertificateChain(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	crt, key := selfSigned(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), "app.example.com")
	ca, _ := selfSigned(t, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), "ca.example.com")
	junk := []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
	broken := []byte("-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n")
	keyBlock := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name string
		crt  []byte
		want string // "" accepts
		n    int    // certificates kept
	}{
		{"leaf", crt, "", 1},
		{"leaf and CA", cat(crt, ca), "", 2},
		{"explanatory text before blocks", cat([]byte("Bag Attributes\n    friendlyName: app\nsubject=/CN=app\n"), crt, []byte("subject=/CN=ca\n"), ca), "", 2},
		{"trailing newlines", cat(crt, []byte("\n\n")), "", 1},
		{"leaf and a junk certificate block", cat(crt, junk), "certificate 2 of tls.crt does not parse", 0},
		{"leaf and a broken block", cat(crt, broken), "tls.crt holds a malformed PEM block after certificate 1", 0},
		{"broken block between", cat(crt, broken, ca), "tls.crt holds a malformed PEM block after certificate 1", 0},
		{"a key block in the chain", cat(crt, keyBlock), `PEM block 2 of tls.crt is a "RSA PRIVATE KEY", not a CERTIFICATE`, 0},
		{"trailing garbage", cat(crt, []byte("garbage")), "tls.crt ends with 7 bytes that are not a PEM block", 0},
		{"huge chain", cat(crt, []byte(strings.Repeat(string(ca), (128<<10)/len(ca)+1))), "tls.crt is larger than 128 KiB", 0},
		{"no block", []byte("hello"), "tls.crt holds no PEM certificate", 0},
	}
	for _, tc := range tests {
		c, err := parseCertificate(tlsSecret("lab", "s", tc.crt, key), now)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if n := strings.Count(c.CertPEM, "-----BEGIN CERTIFICATE-----"); n != tc.n || strings.Contains(c.CertPEM, "subject=") {
			t.Errorf("%s: %d certificates re-encoded, want %d:\n%s", tc.name, n, tc.n, c.CertPEM)
		}
	}
	if _, err := parseCertificate(tlsSecret("lab", "s", crt, append([]byte(strings.Repeat("\n", 64<<10)), key...)), now); err == nil || !strings.Contains(err.Error(), "tls.key is larger than 64 KiB") {
		t.Errorf("huge key: %v", err)
	}
	// A ca.crt (auth-tls, proxy-ssl) is read by the same rules.
	for _, tc := range tests {
		_, err := caBundle(tc.crt)
		if want := strings.ReplaceAll(tc.want, "tls.crt", "ca.crt"); (err == nil) != (tc.want == "" || tc.name == "huge chain") ||
			err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("ca.crt %s: err %v, want %q", tc.name, err, want)
		}
	}
}
