package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
)

func globalOf(data map[string]string) model.Global {
	return model.Build(model.Input{ConfigMap: configMap(data)}).Global
}

// The traffic listen directives, as ingress-nginx prints them: every IPv4
// address (or bind-address's), then IPv6 ([::], or bind-address's) where
// the host has it and disable-ipv6 does not turn it off; the catch-all
// server's carry default_server, reuseport and the backlog.
func TestListens(t *testing.T) {
	ports := Options{HTTPPort: 80, HTTPSPort: 443}
	v6 := ports
	v6.IPv6 = true
	for _, tc := range []struct {
		name      string
		data      map[string]string
		opts      Options
		want, def []string
	}{
		{"defaults, no IPv6 on the host", nil, ports,
			[]string{"80", "443 ssl http2"},
			[]string{"80 default_server reuseport backlog=4096", "443 ssl http2 default_server reuseport backlog=4096"}},
		{"defaults with IPv6", nil, v6,
			[]string{"80", "[::]:80", "443 ssl http2", "[::]:443 ssl http2"},
			[]string{"80 default_server reuseport backlog=4096", "[::]:80 default_server reuseport backlog=4096",
				"443 ssl http2 default_server reuseport backlog=4096", "[::]:443 ssl http2 default_server reuseport backlog=4096"}},
		{"disable-ipv6", map[string]string{"disable-ipv6": "true"}, v6, []string{"80", "443 ssl http2"}, nil},
		{"bind-address of both families, no HTTP/2, no reuseport, PROXY protocol",
			map[string]string{"bind-address": "127.0.0.1,::1,10.0.0.1", "use-http2": "false", "reuse-port": "false", "use-proxy-protocol": "true"}, v6,
			[]string{"10.0.0.1:80 proxy_protocol", "127.0.0.1:80 proxy_protocol", "[::1]:80 proxy_protocol",
				"10.0.0.1:443 ssl proxy_protocol", "127.0.0.1:443 ssl proxy_protocol", "[::1]:443 ssl proxy_protocol"},
			[]string{"10.0.0.1:80 proxy_protocol default_server backlog=4096", "127.0.0.1:80 proxy_protocol default_server backlog=4096",
				"[::1]:80 proxy_protocol default_server backlog=4096", "10.0.0.1:443 ssl proxy_protocol default_server backlog=4096",
				"127.0.0.1:443 ssl proxy_protocol default_server backlog=4096", "[::1]:443 ssl proxy_protocol default_server backlog=4096"}},
		{"IPv4 bind-address only: IPv6 on all", map[string]string{"bind-address": "127.0.0.1"}, v6,
			[]string{"127.0.0.1:80", "[::]:80", "127.0.0.1:443 ssl http2", "[::]:443 ssl http2"}, nil},
		{"IPv6 bind-address without IPv6: none", map[string]string{"bind-address": "::1"}, ports, []string{"80", "443 ssl http2"}, nil},
	} {
		listen, def := listens(globalOf(tc.data), tc.opts)
		if diff := cmp.Diff(tc.want, listen); diff != "" {
			t.Errorf("%s: listen (-want +got):\n%s", tc.name, diff)
		}
		if tc.def != nil {
			if diff := cmp.Diff(tc.def, def); diff != "" {
				t.Errorf("%s: catch-all listen (-want +got):\n%s", tc.name, diff)
			}
		}
	}
}

// disable-ipv6-dns, or a host without IPv6, leaves the IPv6 nameservers
// out and asks for IPv4 addresses only.
func TestResolversWithoutIPv6(t *testing.T) {
	all := []string{"10.96.0.10", "[fd00::10]:53"}
	for _, tc := range []struct {
		data map[string]string
		ipv6 bool
		want []string
		off  bool
	}{
		{nil, true, all, false},
		{map[string]string{"disable-ipv6-dns": "true"}, true, []string{"10.96.0.10"}, true},
		{nil, false, []string{"10.96.0.10"}, true},
	} {
		h := httpOf(globalOf(tc.data), Options{Resolvers: all, IPv6: tc.ipv6})
		if !cmp.Equal(h.Resolvers, tc.want) || h.ResolverIPv6Off != tc.off {
			t.Errorf("%v, IPv6 %v: %v ipv6=off %v", tc.data, tc.ipv6, h.Resolvers, h.ResolverIPv6Off)
		}
	}
}

// Worker limits left to the plan follow the controller's open files, as
// ingress-nginx derives them.
func TestWorkerLimits(t *testing.T) {
	for _, tc := range []struct {
		data        map[string]string
		limit       int
		files, conn int
	}{
		{nil, 1 << 20, 1<<20 - 1024, 16384},
		{nil, 1500, 1024, 16384},
		{nil, 0, 0, 16384},
		{map[string]string{"max-worker-connections": "0"}, 66560, 65536, 49152},
		{map[string]string{"max-worker-open-files": "4096", "max-worker-connections": "0"}, 1 << 20, 4096, 3072},
		{map[string]string{"max-worker-open-files": "4096", "max-worker-connections": "100"}, 0, 4096, 100},
	} {
		files, conn := workerLimits(globalOf(tc.data).Workers, tc.limit)
		if files != tc.files || conn != tc.conn {
			t.Errorf("%v, limit %d: files %d connections %d, want %d %d", tc.data, tc.limit, files, conn, tc.files, tc.conn)
		}
	}
}

// retry-non-idempotent adds non_idempotent once to every next-upstream
// list; an annotation's own non_idempotent stays.
func TestNextUpstream(t *testing.T) {
	for _, tc := range []struct {
		conds []string
		retry bool
		want  string
	}{
		{[]string{"error", "timeout"}, false, "error timeout"},
		{[]string{"error", "timeout"}, true, "error timeout non_idempotent"},
		{[]string{"error", "non_idempotent", "http_502"}, false, "error http_502 non_idempotent"},
		{[]string{"non_idempotent", "error"}, true, "error non_idempotent"},
		{[]string{"off"}, true, "off"},
	} {
		if got := nextUpstream(tc.conds, tc.retry); got != tc.want {
			t.Errorf("%v %v: %q, want %q", tc.conds, tc.retry, got, tc.want)
		}
	}
}

// The server names hash fits the server blocks' names, as ingress-nginx
// sizes it; larger ConfigMap values stay.
func TestServerNamesHash(t *testing.T) {
	long := strings.Repeat("a", 100) + ".example.com"
	servers := []*Server{{ServerName: "_"}, {ServerName: long, Aliases: []string{"b.example.com"}}}
	// 112 bytes, 2 of nginx's, to 8-byte words, and two words: 136 -> 256.
	if got := serverNamesHash(servers, globalOf(nil).Hashes); got != (ServerNamesHash{MaxSize: 1024, BucketSize: 256}) {
		t.Errorf("defaults: %+v", got)
	}
	if got := serverNamesHash(servers, globalOf(map[string]string{"server-name-hash-max-size": "16",
		"server-name-hash-bucket-size": "512"}).Hashes); got != (ServerNamesHash{MaxSize: 128, BucketSize: 512}) {
		t.Errorf("set: %+v", got)
	}
	if got := serverNamesHash([]*Server{{ServerName: "_"}}, globalOf(nil).Hashes); got != (ServerNamesHash{MaxSize: 1024, BucketSize: 32}) {
		t.Errorf("only the catch-all: %+v", got)
	}
}

// ssl-reject-handshake: the certificates document names every host, those
// without TLS mapped to the default certificate, so that the store knows
// which names exist; without it, only the TLS hosts.
func TestCertificatesNameEveryHostToReject(t *testing.T) {
	svcs, eps := labObjects()
	ings := []*networkingv1.Ingress{
		ingress("lab", "tls", rule("secure.example.com", path("/", prefix, "api-service", 80)), withTLS("missing", "secure.example.com")),
		ingress("lab", "plain", annotate("nginx.ingress.kubernetes.io/server-alias", "alias.example.com"),
			rule("plain.example.com", path("/", prefix, "api-service", 80))),
	}
	for _, tc := range []struct {
		data map[string]string
		want Certificates
	}{
		{nil, Certificates{Servers: map[string]string{"secure.example.com": ""}}},
		{map[string]string{"ssl-reject-handshake": "true"}, Certificates{RejectUnknown: true,
			Servers: map[string]string{"secure.example.com": "", "plain.example.com": "", "alias.example.com": ""}}},
	} {
		m := model.Build(model.Input{Ingresses: ings, IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs,
			EndpointSlices: eps, ConfigMap: configMap(tc.data), Options: defaultOptions})
		var got Certificates
		if err := json.Unmarshal(planOf(t, m).Documents.Certificates.Body, &got); err != nil {
			t.Fatal(err)
		}
		got.Certificates = nil
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.data, diff)
		}
	}
}

// The DH parameters and the session ticket key go to files named after
// their content, which nginx.conf names.
func TestTLSFiles(t *testing.T) {
	g := globalOf(nil)
	g.TLS.DHParam, g.TLS.SessionTicketKey = []byte("dh"), []byte("key")
	p, err := Make(&model.Config{Global: g}, nil, Options{RunDir: "/run/portico"})
	if err != nil {
		t.Fatal(err)
	}
	dh, key := p.HTTP.DHParamFile, p.HTTP.TicketKeyFile
	if !strings.HasPrefix(dh, "/run/portico/auth/dhparam-") || !strings.HasPrefix(key, "/run/portico/auth/ticketkey-") {
		t.Fatalf("files %q %q", dh, key)
	}
	if string(p.AuthFiles[strings.TrimPrefix(dh, "/run/portico/auth/")]) != "dh" || string(p.AuthFiles[strings.TrimPrefix(key, "/run/portico/auth/")]) != "key" {
		t.Errorf("auth files %v", p.AuthFiles)
	}
	g.TLS.DHParam = []byte("dh2")
	q, _ := Make(&model.Config{Global: g}, nil, Options{RunDir: "/run/portico"})
	if q.HTTP.DHParamFile == dh || q.HTTP.TicketKeyFile != key {
		t.Errorf("new parameters, same file %q; same key, new file %q", dh, q.HTTP.TicketKeyFile)
	}
}
