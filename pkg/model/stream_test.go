package model

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

func streamConfigMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: name}, Data: data}
}

// udpSlice is an EndpointSlice of one UDP port.
func udpSlice(ns, svc, name, portName string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	s := slice(ns, svc, name, portName, port, eps...)
	udp := corev1.ProtocolUDP
	s.Ports[0].Protocol = &udp
	return s
}

func TestStreamServices(t *testing.T) {
	dnsPort := svcPort("dns", 53, 5353)
	dnsPort.Protocol = corev1.ProtocolUDP
	svcs := []*corev1.Service{
		service("db", "pg", svcPort("pg", 5432, 5432)),
		service("kube-system", "dns", dnsPort, svcPort("dns-tcp", 53, 5353)),
	}
	slices := []*discoveryv1.EndpointSlice{
		slice("db", "pg", "pg-1", "pg", 5432, ep("198.18.0.9"), ep("198.18.0.8")),
		udpSlice("kube-system", "dns", "dns-udp", "dns", 5353, ep("198.18.0.7")),
		slice("kube-system", "dns", "dns-tcp", "dns-tcp", 5353, ep("198.18.0.6")),
	}
	opts := defaultOptions
	opts.ReservedPorts = map[int]string{80: "HTTP port", 443: "HTTPS port", 10254: "healthz port"}
	tcpObj := diag.Object{Kind: "ConfigMap", Namespace: "ingress-nginx", Name: "tcp-services"}
	udpObj := diag.Object{Kind: "ConfigMap", Namespace: "ingress-nginx", Name: "udp-services"}
	cfg := Build(Input{
		Services: svcs, EndpointSlices: slices, Options: opts,
		TCPServices: streamConfigMap("tcp-services", map[string]string{
			"5432":  "db/pg:5432:PROXY:PROXY",
			"05432": "db/pg:pg",                  // the same port again
			"6000":  "db/pg:pg::proxy",           // encode only; case-insensitive
			"53":    "kube-system/dns:dns-tcp",   // TCP 53 beside UDP 53
			"80":    "db/pg:5432",                // Portico's own
			"70000": "db/pg:5432",                // no such port
			"x":     "db/pg:5432",                // not a port
			"7000":  "db/pg",                     // no service port
			"7001":  "db/pg:5432:PROXY:PROXY:1",  // too many fields
			"7002":  "db/pg:5432:SEND",           // not PROXY
			"7003":  "Db/pg:5432",                // not a DNS label
			"7004":  "db/missing:5432",           // kept: connections closed
			"7005":  "kube-system/dns:dns",       // a UDP port by name
			"7006":  "db/pg:0",                   // port out of range
			"7007":  "db/pg:5432;\n}",            // injection
			"7008":  "db/pg:99",                  // no such Service port
			"7009":  "kube-system/dns:53:PROXY:", // TCP 53 by number
		}),
		UDPServices: streamConfigMap("udp-services", map[string]string{
			"53":    "kube-system/dns:53:PROXY", // ignored for UDP, with a Warning
			"10254": "kube-system/dns:53",
		}),
	})
	want := []*StreamService{
		{Protocol: "TCP", Port: 53, ConfigMap: tcpObj, Service: ServiceRef{"kube-system", "dns"}, ServicePort: "dns-tcp",
			Endpoints: []Endpoint{{"198.18.0.6", 5353}}},
		{Protocol: "TCP", Port: 5432, ConfigMap: tcpObj, Service: ServiceRef{"db", "pg"}, ServicePort: "5432", DecodeProxy: true, EncodeProxy: true,
			Endpoints: []Endpoint{{"198.18.0.8", 5432}, {"198.18.0.9", 5432}}},
		{Protocol: "TCP", Port: 6000, ConfigMap: tcpObj, Service: ServiceRef{"db", "pg"}, ServicePort: "pg", EncodeProxy: true,
			Endpoints: []Endpoint{{"198.18.0.8", 5432}, {"198.18.0.9", 5432}}},
		{Protocol: "TCP", Port: 7004, ConfigMap: tcpObj, Service: ServiceRef{"db", "missing"}, ServicePort: "5432",
			NoEndpoints: "service db/missing does not exist"},
		{Protocol: "TCP", Port: 7005, ConfigMap: tcpObj, Service: ServiceRef{"kube-system", "dns"}, ServicePort: "dns",
			NoEndpoints: "service kube-system/dns has no TCP port dns"},
		{Protocol: "TCP", Port: 7008, ConfigMap: tcpObj, Service: ServiceRef{"db", "pg"}, ServicePort: "99",
			NoEndpoints: "service db/pg has no TCP port 99"},
		{Protocol: "TCP", Port: 7009, ConfigMap: tcpObj, Service: ServiceRef{"kube-system", "dns"}, ServicePort: "53", DecodeProxy: true,
			Endpoints: []Endpoint{{"198.18.0.6", 5353}}},
		{Protocol: "UDP", Port: 53, ConfigMap: udpObj, Service: ServiceRef{"kube-system", "dns"}, ServicePort: "53",
			Endpoints: []Endpoint{{"198.18.0.7", 5353}}},
	}
	if !reflect.DeepEqual(cfg.Streams, want) {
		for _, s := range cfg.Streams {
			t.Logf("got %+v", *s)
		}
		t.Fatalf("streams differ")
	}
	type finding struct {
		obj, field, reason string
		sev                diag.Severity
	}
	var got []finding
	for _, d := range cfg.Diagnostics {
		got = append(got, finding{d.Object.Name, d.Field, d.Reason, d.Severity})
	}
	wantDiags := []finding{
		{"tcp-services", "data[05432]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[70000]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[7000]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[7001]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[7002]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[7003]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[7004]", "StreamServiceNoEndpoints", diag.Warning},
		{"tcp-services", "data[7005]", "StreamServiceNoEndpoints", diag.Warning},
		{"tcp-services", "data[7006]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[7007]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[7008]", "StreamServiceNoEndpoints", diag.Warning},
		{"tcp-services", "data[80]", "InvalidStreamService", diag.Error},
		{"tcp-services", "data[x]", "InvalidStreamService", diag.Error},
		{"udp-services", "data[10254]", "InvalidStreamService", diag.Error},
		{"udp-services", "data[53]", "IneffectiveStreamOption", diag.Warning},
	}
	if !reflect.DeepEqual(got, wantDiags) {
		for _, d := range cfg.Diagnostics {
			t.Logf("%v", d)
		}
		t.Fatalf("diagnostics differ:\n got %v\nwant %v", got, wantDiags)
	}

	// An EndpointSlice change reaches the stream services on the short
	// path; an unchanged one keeps its pointer.
	slices[0] = slice("db", "pg", "pg-1", "pg", 5432, ep("198.18.0.10"))
	next := cfg.WithEndpoints(svcs, slices)
	if got := next.Streams[1].Endpoints; !reflect.DeepEqual(got, []Endpoint{{"198.18.0.10", 5432}}) {
		t.Errorf("after the change, tcp/5432 has %v", got)
	}
	if next.Streams[0] != cfg.Streams[0] {
		t.Errorf("tcp/53 was copied though its endpoints did not change")
	}
	if cfg.Streams[1].Endpoints[0].Address != "198.18.0.8" {
		t.Errorf("WithEndpoints changed its receiver")
	}
}

func TestSSLPassthrough(t *testing.T) {
	svcs := []*corev1.Service{service("argo", "argocd", svcPort("https", 443, 8443)), service("argo", "other", svcPort("", 80, 8080))}
	slices := []*discoveryv1.EndpointSlice{slice("argo", "argocd", "a-1", "https", 8443, ep("198.18.0.5"))}
	pass := annotate("nginx.ingress.kubernetes.io/ssl-passthrough", "true")
	ings := func() []*networkingv1.Ingress {
		return []*networkingv1.Ingress{
			ingress("argo", "argocd", pass, rule("argocd.example.com", path("/", prefix, "argocd", 443), path("/api", prefix, "other", 80))),
			ingress("argo", "nohost", pass, defaultBackend("other", 80), rule("", path("/x", prefix, "other", 80))),
			ingress("argo", "noroot", pass, rule("noroot.example.com", path("/api", prefix, "other", 80))),
			ingress("argo", "plain", rule("plain.example.com", path("/", prefix, "other", 80))),
		}
	}
	opts := defaultOptions
	opts.SSLPassthrough = true
	cfg := Build(Input{Ingresses: ings(), IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: slices, Options: opts})
	byHost := map[string]*Server{}
	for _, s := range cfg.Servers {
		byHost[s.Host] = s
	}
	argo := byHost["argocd.example.com"]
	if argo.Passthrough != "argo/argocd:443" {
		t.Fatalf("argocd.example.com passes to %q", argo.Passthrough)
	}
	for _, l := range argo.Locations {
		if l.Proxy.Protocol != "HTTPS" {
			t.Errorf("location %s of the passthrough host proxies plain HTTP (%q)", l.Path, l.Proxy.Protocol)
		}
	}
	for _, h := range []string{"", "noroot.example.com", "plain.example.com"} {
		if byHost[h].Passthrough != "" {
			t.Errorf("host %q passes TLS through", h)
		}
	}
	if l := byHost["plain.example.com"].Locations[0]; l.Proxy.Protocol != "" {
		t.Errorf("a host without passthrough proxies with %q", l.Proxy.Protocol)
	}
	var reasons []string
	for _, d := range cfg.Diagnostics {
		reasons = append(reasons, d.Object.Name+" "+d.Field+" "+d.Reason)
	}
	want := []string{
		"nohost spec.rules[0] SSLPassthroughIgnored",
		"noroot metadata.annotations[nginx.ingress.kubernetes.io/ssl-passthrough] SSLPassthroughIgnored",
	}
	if !reflect.DeepEqual(reasons, want) {
		t.Errorf("diagnostics: got %q, want %q", reasons, want)
	}

	// Without --enable-ssl-passthrough TLS ends at Portico, with one
	// Warning per Ingress.
	cfg = Build(Input{Ingresses: ings(), IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: slices, Options: defaultOptions})
	n := 0
	for _, s := range cfg.Servers {
		if s.Passthrough != "" {
			t.Errorf("host %q passes TLS through without the flag", s.Host)
		}
	}
	for _, d := range cfg.Diagnostics {
		if d.Reason == "SSLPassthroughIgnored" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d SSLPassthroughIgnored diagnostics without the flag, want 3 (one per annotated Ingress)", n)
	}
}
