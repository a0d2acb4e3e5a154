package model

import (
	"reflect"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Stream snippets of served Ingresses are kept oldest first; one whose
// server listens on Portico's own port or on a tcp-services/udp-services
// port of its protocol refuses its Ingress (StreamPortTaken), before nginx
// would fail to bind it; other ports, protocols and unix sockets pass.
func TestStreamSnippets(t *testing.T) {
	opts := defaultOptions
	opts.ReservedPorts = map[int]string{80: "HTTP port", 443: "HTTPS port"}
	allowed := configMap(map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"})
	ing := func(name, text string, minutes int) *networkingv1.Ingress {
		return ingress("lab", name, annotate(annotations.Prefix+"stream-snippet", text), created(minutes),
			rule(name+".example.com", path("/", prefix, "api", 80)))
	}
	cfg := Build(Input{Options: opts, ConfigMap: allowed, IngressClasses: []*networkingv1.IngressClass{ourClass()},
		TCPServices: streamConfigMap("tcp", map[string]string{"5432": "lab/db:5432"}),
		UDPServices: streamConfigMap("udp", map[string]string{"53": "lab/dns:53"}),
		Ingresses: []*networkingv1.Ingress{
			ing("newer", "server { listen 9001; proxy_pass 10.0.0.1:9000; }", 2),
			ing("older", "server { listen [::1]:9000; listen 127.0.0.1:5432 udp; listen unix:/run/x.sock; proxy_pass 10.0.0.1:9000; }", 1),
			ing("http", "server { listen 0.0.0.0:80; proxy_pass 10.0.0.1:9000; }", 3),
			ing("tcp", "upstream u { server 10.0.0.1:1; }\nserver { listen 5432; proxy_pass u; }", 4),
			ing("udp", "server { listen 53 udp reuseport; proxy_pass 10.0.0.1:53; }", 5),
		}})
	var got []string
	for _, s := range cfg.StreamSnippets {
		got = append(got, s.Ingress.Name)
	}
	if want := []string{"older", "newer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stream snippets of %v, want %v", got, want)
	}
	refused := map[string]string{}
	for _, d := range cfg.Diagnostics {
		if d.Reason == "StreamPortTaken" {
			refused[d.Object.Name] = d.Message
		}
	}
	for name, want := range map[string]string{"http": "TCP port 80, which is Portico's HTTP port",
		"tcp": `TCP port 5432, which is the key "5432" of ConfigMap ingress-nginx/tcp`,
		"udp": `UDP port 53, which is the key "53" of ConfigMap ingress-nginx/udp`} {
		if !strings.Contains(refused[name], want) {
			t.Errorf("%s: %q, want it refused naming %q", name, refused[name], want)
		}
	}
	if len(refused) != 3 {
		t.Errorf("refused %v, want http, tcp and udp only", refused)
	}
}
