package model

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// settingCase is a ConfigMap key with a valid value, the Global it gives,
// and values outside its grammar (each refused alone, the default kept).
type settingCase struct {
	key, value string
	want       func(g *Global)
	bad        []string
}

func checkSettings(t *testing.T, refs configRefs, tests []settingCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			want := defaultGlobal
			tc.want(&want)
			g, inEffect, ds := parseConfigMapKeeping(configMap(map[string]string{tc.key: tc.value}), nil, refs)
			if len(ds) != 0 {
				t.Fatalf("diagnostics: %v", ds)
			}
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("Global (-want +got):\n%s", diff)
			}
			if inEffect[tc.key] != tc.value {
				t.Errorf("in effect: %v", inEffect)
			}
			for _, v := range tc.bad {
				g, _, ds := parseConfigMapKeeping(configMap(map[string]string{tc.key: v}), nil, refs)
				if len(ds) != 1 || ds[0].Reason != "InvalidOption" || ds[0].Severity != diag.Error {
					t.Errorf("%q: diagnostics %v, want one InvalidOption error", v, ds)
				}
				if diff := cmp.Diff(defaultGlobal, g); diff != "" {
					t.Errorf("%q changed the global config:\n%s", v, diff)
				}
			}
		})
	}
}

func dhSecret(t *testing.T, ns, name, file string) *corev1.Secret {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"dhparam.pem": pem}}
}

// The TLS keys of the ConfigMap: each valid value and what it gives, and
// values nginx would refuse or misread.
func TestConfigMapTLSSettings(t *testing.T) {
	key48 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 48)))
	key80 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 80)))
	good := dhSecret(t, "ingress-nginx", "dh", "testdata/dhparam2048.pem")
	dhPEM := good.Data["dhparam.pem"]
	refs := configRefs{secrets: map[SecretRef]*corev1.Secret{
		{"ingress-nginx", "dh"}:    good,
		{"ingress-nginx", "weak"}:  dhSecret(t, "ingress-nginx", "weak", "testdata/dhparam1024.pem"),
		{"ingress-nginx", "other"}: {ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "other"}, Data: map[string][]byte{"tls.crt": dhPEM}},
		{"ingress-nginx", "junk"}: {ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "junk"},
			Data: map[string][]byte{"dhparam.pem": []byte("-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n")}},
		{"ingress-nginx", "twice"}: {ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "twice"},
			Data: map[string][]byte{"dhparam.pem": append(append([]byte{}, dhPEM...), dhPEM...)}},
	}}
	checkSettings(t, refs, []settingCase{
		{"ssl-dh-param", "ingress-nginx/dh", func(g *Global) { g.TLS.DHParam, g.TLS.DHParamSecret = dhPEM, "ingress-nginx/dh" },
			[]string{"dh", "ingress-nginx/missing", "ingress-nginx/weak", "ingress-nginx/other", "ingress-nginx/junk", "ingress-nginx/twice",
				"Ingress-Nginx/dh", "ingress-nginx/dh/x", ""}},
		{"ssl-ecdh-curve", "X25519:prime256v1:secp384r1", func(g *Global) { g.TLS.ECDHCurve = "X25519:prime256v1:secp384r1" },
			[]string{"bogus", "prime256v1:P-256", "X25519:X25519", "X25519;", "", "p-256", "X25519:"}},
		{"ssl-ecdh-curve", "auto", func(g *Global) {}, nil},
		{"ssl-session-cache", "false", func(g *Global) { g.TLS.SessionCache = false }, []string{"off"}},
		{"ssl-session-cache-size", "32k", func(g *Global) { g.TLS.SessionCacheSize = "32k" }, []string{"8k", "2g", "1025m", "10 m", "10mb", ""}},
		{"ssl-session-timeout", "1h30m", func(g *Global) { g.TLS.SessionTimeout = "1h30m" }, []string{"0", "8d", "1 h", "10x", "-1m", ""}},
		{"ssl-session-timeout", "300", func(g *Global) { g.TLS.SessionTimeout = "300" }, nil},
		{"ssl-session-tickets", "true", func(g *Global) { g.TLS.SessionTickets = true }, []string{"on"}},
		{"ssl-session-ticket-key", key80, func(g *Global) { g.TLS.SessionTicketKey = []byte(strings.Repeat("k", 80)) },
			[]string{base64.StdEncoding.EncodeToString([]byte("short")), "not base64!", key80[:20]}},
		{"ssl-session-ticket-key", key48, func(g *Global) { g.TLS.SessionTicketKey = []byte(strings.Repeat("k", 48)) }, nil},
		{"ssl-buffer-size", "16k", func(g *Global) { g.TLS.BufferSize = "16k" }, []string{"0", "2m", "16kb", "1g"}},
		{"ssl-reject-handshake", "true", func(g *Global) { g.TLS.RejectHandshake = true }, []string{"y"}},
		{"enable-ocsp", "true", func(g *Global) { g.TLS.OCSP = true }, []string{"on"}},
		{"http-redirect-code", "301", func(g *Global) { g.TLS.RedirectCode = 301 }, []string{"303", "200", "0308", "308 ", "abc"}},
		{"no-tls-redirect-locations", "/.well-known/acme-challenge, /public", func(g *Global) {
			g.TLS.NoRedirect = []string{"/.well-known/acme-challenge", "/public"}
		}, []string{"relative", "/a b", "/x;y", "/x{"}},
		{"no-tls-redirect-locations", "", func(g *Global) { g.TLS.NoRedirect = nil }, nil},
	})
}

// ssl-dh-param names a Secret: when it goes or turns bad, the last good
// value is kept only if its Secret is still good.
func TestDHParamLastGoodValue(t *testing.T) {
	good := dhSecret(t, "ingress-nginx", "dh", "testdata/dhparam2048.pem")
	refs := configRefs{secrets: map[SecretRef]*corev1.Secret{{"ingress-nginx", "dh"}: good}}
	lastGood := map[string]string{"ssl-dh-param": "ingress-nginx/dh"}
	g, inEffect, ds := parseConfigMapKeeping(configMap(map[string]string{"ssl-dh-param": "ingress-nginx/typo"}), lastGood, refs)
	if g.TLS.DHParamSecret != "ingress-nginx/dh" || inEffect["ssl-dh-param"] != "ingress-nginx/dh" || len(ds) != 1 ||
		!strings.Contains(ds[0].Message, "secret ingress-nginx/typo does not exist") || !strings.Contains(ds[0].Message, "is kept") {
		t.Errorf("a typo: %q in effect %v, %v", g.TLS.DHParamSecret, inEffect, ds)
	}
	// The Secret itself gone: nothing to keep.
	g, inEffect, ds = parseConfigMapKeeping(configMap(map[string]string{"ssl-dh-param": "ingress-nginx/dh"}), lastGood, configRefs{})
	if g.TLS.DHParam != nil || len(inEffect) != 0 || len(ds) != 1 || !strings.Contains(ds[0].Message, "the default is used") {
		t.Errorf("Secret gone: %v in effect %v, %v", g.TLS.DHParamSecret, inEffect, ds)
	}
}

// no-tls-redirect-locations: cert-manager's HTTP-01 solver Ingress on a
// host whose own Ingress has TLS and ssl-redirect is not redirected, with
// either path type cert-manager uses, whatever its annotations say; the
// host's other paths are; a list without its prefix redirects it too.
func TestNoTLSRedirectLocations(t *testing.T) {
	const token = "/.well-known/acme-challenge/Ab-12_cd"
	svcs := []*corev1.Service{service("shop", "web", svcPort("", 80, 8080)), service("shop", "cm-acme-http-solver-x", svcPort("", 8089, 8089))}
	site := ingress("shop", "site", rule("shop.example.com", path("/", prefix, "web", 80)), withTLS("shop-tls", "shop.example.com"))
	solver := func(pt networkingv1.PathType, more ...ingOpt) *networkingv1.Ingress {
		opts := append([]ingOpt{annotate("nginx.ingress.kubernetes.io/whitelist-source-range", "0.0.0.0/0,::/0"),
			rule("shop.example.com", path(token, pt, "cm-acme-http-solver-x", 8089))}, more...)
		return ingress("shop", "cm-acme-http-solver-x", opts...)
	}
	for _, tc := range []struct {
		name   string
		solver *networkingv1.Ingress
		data   map[string]string
		want   bool // the solver's path redirects
	}{
		{"Exact", solver(exact), nil, false},
		{"ImplementationSpecific", solver(impl), nil, false},
		{"force-ssl-redirect too", solver(exact, annotate("nginx.ingress.kubernetes.io/force-ssl-redirect", "true")), nil, false},
		{"an empty list", solver(exact), map[string]string{"no-tls-redirect-locations": ""}, true},
		{"another list", solver(impl), map[string]string{"no-tls-redirect-locations": "/public"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Build(Input{Ingresses: []*networkingv1.Ingress{site, tc.solver}, IngressClasses: []*networkingv1.IngressClass{ourClass()},
				Services: svcs, ConfigMap: configMap(tc.data), Options: defaultOptions})
			got := map[string]bool{}
			for _, s := range cfg.Servers {
				for _, l := range s.Locations {
					if s.Host == "shop.example.com" {
						got[l.Path] = l.SSLRedirect
					}
				}
			}
			if len(got) != 2 || !got["/"] || got[token] != tc.want {
				t.Errorf("redirects by path: %v, want / and %s %v", got, token, tc.want)
			}
		})
	}
}
