package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/nginxconf"
	"github.com/portico-ingress/portico/pkg/plan"
)

// streamInput has a TCP service with the PROXY protocol both ways, a UDP
// service and, with --enable-ssl-passthrough, a passthrough host beside a
// terminating one; the ConfigMap trusts 10.0.0.0/8's PROXY headers and
// sets the proxy-stream-* keys.
func streamInput(passthrough bool) model.Input {
	pfx := networkingv1.PathTypePrefix
	in := httpInput(map[string]string{"proxy-real-ip-cidr": "10.0.0.0/8", "proxy-stream-timeout": "1h", "proxy-stream-responses": "2"},
		httpIngress("argocd", "argocd.example.com", map[string]string{"ssl-passthrough": "true"}, pfx, "/"),
		httpIngress("wild", "*.pass.example.com", map[string]string{"ssl-passthrough": "true"}, pfx, "/"),
		httpIngress("site", "site.example.com", nil, pfx, "/"))
	dns := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "dns"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}}}}
	in.Services = append(in.Services, dns)
	cm := func(name string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: name}, Data: data}
	}
	in.TCPServices = cm("tcp", map[string]string{"5432": "web/app:80:PROXY:PROXY", "6379": "web/app:80"})
	in.UDPServices = cm("udp", map[string]string{"53": "web/dns:53"})
	in.Options.SSLPassthrough = passthrough
	in.Options.ReservedPorts = map[int]string{80: "HTTP port", 443: "HTTPS port"}
	return in
}

func streamPlan(t testing.TB, passthrough bool, opts plan.Options) *plan.Plan {
	opts.SSLPassthrough = passthrough
	return planOf(t, model.Build(streamInput(passthrough)), opts)
}

func TestRenderStream(t *testing.T) {
	conf, _, err := Render(streamPlan(t, true, testOptions))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "stream.nginx.conf", conf)
	wantIn(t, "nginx.conf", string(conf),
		// The HTTPS server listens behind the front, and trusts its PROXY
		// header for $remote_addr.
		"listen unix:/etc/nginx/run/https.sock ssl http2 proxy_protocol default_server backlog=4096;",
		"set_real_ip_from unix:;\n    real_ip_header proxy_protocol;",
		`"argocd.example.com" "tls-web_app:80";`,
		`"~*^[^.]+\.pass\.example\.com$" "tls-web_app:80";`,
		"listen 5432 proxy_protocol;",
		"listen 53 udp;",
		"proxy_timeout 1h;\n        proxy_responses 2;",
	)
	if bytes.Contains(conf, []byte("listen 443 ssl")) {
		t.Errorf("the HTTPS server still listens on the HTTPS port, which the front owns")
	}

	// Without passthrough the HTTPS server keeps its port, and the stream
	// context has no front.
	conf, _, err = Render(streamPlan(t, false, testOptions))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(conf, []byte("listen 443 ssl http2 default_server")) || bytes.Contains(conf, []byte("ssl_preread")) ||
		bytes.Contains(conf, []byte("unix:")) {
		t.Errorf("without passthrough:\n%s", conf)
	}
	// Without any stream service nor passthrough, no stream module.
	conf, _, _ = Render(seedPlan(t, testOptions))
	if bytes.Contains(conf, []byte("ngx_stream_module")) || bytes.Contains(conf, []byte("\nstream {")) {
		t.Errorf("a config without TCP/UDP services loads the stream module")
	}
}

func TestRenderStreamPassesNginxTest(t *testing.T) {
	nginxTestConfig(t, "stream", func(o plan.Options) *plan.Plan { return streamPlan(t, true, o) })
}

// Peer files follow the endpoints on the short path: nginx.conf does not.
func TestStreamPeerFilesOnEndpointChange(t *testing.T) {
	in := streamInput(true)
	m := model.Build(in)
	opts := testOptions
	opts.SSLPassthrough = true
	p := planOf(t, m, opts)
	if got := string(p.PeerFiles["tcp-5432"]); got != "" {
		t.Fatalf("tcp-5432 without endpoints: %q", got)
	}
	confBefore, _, _ := Render(p)
	in.EndpointSlices = append(in.EndpointSlices, slice80("web", "app", "198.18.0.4", "198.18.0.3"))
	q, err := p.WithEndpoints(m.WithEndpoints(in.Services, in.EndpointSlices))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tcp-5432", "tcp-6379", "tls-web_app:80"} {
		if got := string(q.PeerFiles[f]); got != "198.18.0.3:80\n198.18.0.4:80\n" {
			t.Errorf("%s: %q", f, got)
		}
	}
	if got := string(q.PeerFiles["udp-53"]); got != "" {
		t.Errorf("udp-53 took TCP endpoints: %q", got)
	}
	confAfter, _, _ := Render(q)
	if !bytes.Equal(confBefore, confAfter) {
		t.Errorf("nginx.conf changed with endpoints")
	}
	if strings.Contains(string(confAfter), "198.18.0.3") {
		t.Errorf("nginx.conf names an endpoint")
	}
}

// slice80 is an EndpointSlice of Service ns/svc's unnamed TCP port, to 80.
func slice80(ns, svc string, addrs ...string) *discoveryv1.EndpointSlice {
	port, ready := int32(80), true
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Port: &port}}}
	for _, a := range addrs {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	return s
}

// Stream snippets, the Ingresses' (oldest first) and then the
// ConfigMap's, print inside the stream block, which they alone bring (and
// its modules) when there is no TCP/UDP service; not allowed, an
// Ingress's is dropped and the ConfigMap's stays. nginx -t takes the
// result.
func TestRenderStreamSnippets(t *testing.T) {
	pfx := networkingv1.PathTypePrefix
	older := httpIngress("older", "older.example.com", map[string]string{"stream-snippet": "server { listen 127.0.0.1:19001; proxy_pass 10.0.0.1:9000; }"}, pfx, "/")
	newer := httpIngress("newer", "newer.example.com", map[string]string{"stream-snippet": "upstream newer { server 10.0.0.2:9000; }\nserver { listen 127.0.0.1:19002; proxy_pass newer; }"}, pfx, "/")
	newer.CreationTimestamp.Time = newer.CreationTimestamp.Add(time.Second)
	cm := map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical",
		"stream-snippet": "server { listen 127.0.0.1:19003 udp; proxy_pass 10.0.0.3:53; }"}
	in := func(cm map[string]string) model.Input { return httpInput(cm, newer, older) }
	streamBlock := func(conf []byte) []string {
		root, err := nginxconf.Parse(conf)
		if err != nil {
			t.Fatal(err)
		}
		var listens []string
		for _, d := range root {
			if d.Name != "stream" {
				continue
			}
			for _, s := range d.Block {
				for _, l := range s.Block {
					if s.Name == "server" && l.Name == "listen" {
						listens = append(listens, l.Args[0])
					}
				}
			}
		}
		return listens
	}
	conf, _, err := Render(planOf(t, model.Build(in(cm)), testOptions))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(streamBlock(conf), " "), "127.0.0.1:19001 127.0.0.1:19002 127.0.0.1:19003"; got != want {
		t.Errorf("stream servers listen on %s, want %s", got, want)
	}
	wantIn(t, "nginx.conf", string(conf), "ngx_stream_module.so;", "# stream-snippet of Ingress web/older (allow-snippet-annotations)\n", "# stream-snippet (the ConfigMap's)\n")
	nginxTestConfig(t, "stream-snippets", func(o plan.Options) *plan.Plan { return planOf(t, model.Build(in(cm)), o) })

	delete(cm, "allow-snippet-annotations")
	conf, _, err = Render(planOf(t, model.Build(in(cm)), testOptions))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(streamBlock(conf), " "); got != "127.0.0.1:19003" {
		t.Errorf("snippets not allowed: stream servers listen on %s, want the ConfigMap's 127.0.0.1:19003 only", got)
	}
}
