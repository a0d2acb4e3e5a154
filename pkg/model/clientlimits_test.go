package model

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// The client, listener and worker keys of the ConfigMap: each valid value
// and what it gives, and values nginx would refuse or misread.
func TestConfigMapClientListenAndWorkerSettings(t *testing.T) {
	checkSettings(t, configRefs{}, []settingCase{
		{"client-header-buffer-size", "2k", func(g *Global) { g.Client.HeaderBufferSize = "2k" }, []string{"0", "2m", "2kb", "1g", ""}},
		{"client-header-timeout", "30s", func(g *Global) { g.Client.HeaderTimeout = 30 }, []string{"0", "1m", "86401"}},
		{"client-body-timeout", "5", func(g *Global) { g.Client.BodyTimeout = 5 }, []string{"-1", "five"}},
		{"large-client-header-buffers", "8 16k", func(g *Global) { g.Client.LargeHeaderBuffers = "8 16k" },
			[]string{"16k", "0 8k", "4 100", "65 8k", "4 2m", "4 8k;", "4  8k x", ""}},
		{"large-client-header-buffers", " 2  1k ", func(g *Global) { g.Client.LargeHeaderBuffers = "2 1k" }, nil},
		{"enable-underscores-in-headers", "true", func(g *Global) { g.Client.UnderscoresInHeaders = true }, []string{"yes"}},
		{"ignore-invalid-headers", "false", func(g *Global) { g.Client.IgnoreInvalidHeaders = false }, []string{"no"}},
		{"keep-alive", "0", func(g *Global) { g.Client.KeepAlive = 0 }, []string{"-1", "1h"}},
		{"keep-alive-requests", "100", func(g *Global) { g.Client.KeepAliveRequests = 100 }, []string{"-1", "1e3"}},
		{"use-http2", "false", func(g *Global) { g.Client.HTTP2 = false }, []string{"off"}},
		{"http2-max-concurrent-streams", "64", func(g *Global) { g.Client.HTTP2MaxConcurrentStreams = 64 }, []string{"0", "-1"}},
		// Accepted without effect, as ingress-nginx's nginx ignores them.
		{"http2-max-field-size", "16k", func(g *Global) {}, []string{"16 k", "big"}},
		{"http2-max-header-size", "32k", func(g *Global) {}, []string{"-1"}},
		{"http2-max-requests", "1000", func(g *Global) {}, []string{"-1", "many"}},

		{"disable-ipv6", "true", func(g *Global) { g.Listen.DisableIPv6 = true }, []string{"1x"}},
		{"disable-ipv6-dns", "true", func(g *Global) { g.Listen.DisableIPv6DNS = true }, []string{"1x"}},
		{"bind-address", "10.0.0.2, ::1,10.0.0.1,fd00::1, 10.0.0.2", func(g *Global) {
			g.Listen.BindIPv4, g.Listen.BindIPv6 = []string{"10.0.0.1", "10.0.0.2"}, []string{"::1", "fd00::1"}
		}, []string{"10.0.0.256", "0.0.0.0", "::", "fe80::1%eth0", "example.com", "10.0.0.0/8", "224.0.0.1",
			seventeen()}},
		{"bind-address", "::ffff:10.0.0.1", func(g *Global) { g.Listen.BindIPv4 = []string{"10.0.0.1"} }, nil},
		{"reuse-port", "false", func(g *Global) { g.Listen.ReusePort = false }, []string{"nope"}},

		{"worker-cpu-affinity", "auto", func(g *Global) { g.Workers.CPUAffinity = "auto" }, []string{"auto auto", "0102", "0001  0010", "auto 01 10", " 01"}},
		{"worker-cpu-affinity", "0001 0010 0100 1000", func(g *Global) { g.Workers.CPUAffinity = "0001 0010 0100 1000" }, nil},
		{"worker-cpu-affinity", "auto 01010101", func(g *Global) { g.Workers.CPUAffinity = "auto 01010101" }, nil},
		{"max-worker-open-files", "65536", func(g *Global) { g.Workers.MaxOpenFiles = 65536 }, []string{"-1", "lots"}},
		{"max-worker-connections", "0", func(g *Global) { g.Workers.MaxConnections = 0 }, []string{"-1", "2000000"}},
		{"worker-shutdown-timeout", "30s", func(g *Global) { g.Workers.ShutdownTimeout = "30s" }, []string{"0", "25h", "30 s", "forever"}},
		{"enable-multi-accept", "false", func(g *Global) { g.Workers.MultiAccept = false }, []string{"2"}},
		{"server-name-hash-max-size", "4096", func(g *Global) { g.Hashes.ServerNamesMaxSize = 4096 }, []string{"0", "4096k"}},
		{"server-name-hash-bucket-size", "128", func(g *Global) { g.Hashes.ServerNamesBucketSize = 128 }, []string{"-1", "65536"}},
		{"proxy-headers-hash-max-size", "1024", func(g *Global) { g.Hashes.ProxyHeadersMaxSize = 1024 }, []string{"0"}},
		{"proxy-headers-hash-bucket-size", "128", func(g *Global) { g.Hashes.ProxyHeadersBucketSize = 128 }, []string{"0"}},
		{"variables-hash-max-size", "4096", func(g *Global) { g.Hashes.VariablesMaxSize = 4096 }, []string{"0"}},
		{"variables-hash-bucket-size", "128", func(g *Global) { g.Hashes.VariablesBucketSize = 128 }, []string{"x"}},
		{"map-hash-bucket-size", "128", func(g *Global) { g.Hashes.MapBucketSize = 128 }, []string{"0"}},

		{"upstream-keepalive-time", "30m", func(g *Global) { g.UpstreamKeepaliveTime = "30m" }, []string{"0", "8d", "1 h"}},
		{"retry-non-idempotent", "true", func(g *Global) { g.RetryNonIdempotent = true }, []string{"si"}},
		{"limit-conn-zone-variable", "$http_x_forwarded_for", func(g *Global) { g.LimitConnZoneVariable = "$http_x_forwarded_for" },
			[]string{"binary_remote_addr", "$nosuch", "$remote_addr$host", "$remote_addr;", "$", ""}},
		{"limit-conn-zone-variable", "$remote_addr", func(g *Global) { g.LimitConnZoneVariable = "$remote_addr" }, nil},
		{"grpc-buffer-size-kb", "64", func(g *Global) { g.GRPCBufferSizeKB = 64 }, []string{"-1", "64k", "65537"}},
	})
}

// bind-address names only addresses the host has, when the controller
// knows them: one it lacks is refused and the last good value kept.
func TestBindAddressIsTheHosts(t *testing.T) {
	refs := configRefs{localAddrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"), netip.MustParseAddr("198.18.0.1")}}
	g, _, ds := parseConfigMapKeeping(configMap(map[string]string{"bind-address": "127.0.0.1,::1"}), nil, refs)
	if len(ds) != 0 || !equalStrings(g.Listen.BindIPv4, "127.0.0.1") || !equalStrings(g.Listen.BindIPv6, "::1") {
		t.Fatalf("%v %v %v", g.Listen, ds, refs)
	}
	g, inEffect, ds := parseConfigMapKeeping(configMap(map[string]string{"bind-address": "127.0.0.1,198.18.0.9"}),
		map[string]string{"bind-address": "198.18.0.1"}, refs)
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "198.18.0.9 is not") || !equalStrings(g.Listen.BindIPv4, "198.18.0.1") ||
		inEffect["bind-address"] != "198.18.0.1" {
		t.Errorf("an address the host lacks: %v in effect %v, %v", g.Listen, inEffect, ds)
	}
}

// seventeen is one address more than bind-address takes.
func seventeen() string {
	var as []string
	for i := range 17 {
		as = append(as, "10.0.0."+strconv.Itoa(i+1))
	}
	return strings.Join(as, ",")
}

func equalStrings(got []string, want ...string) bool {
	return strings.Join(got, ",") == strings.Join(want, ",")
}

// nginx times and sizes as the ConfigMap's keys take them.
func TestNginxValues(t *testing.T) {
	for v, want := range map[string]int64{"1h30m": 5400, "90": 90, "500ms": 0, "1d": 86400, "10m": 600} {
		d, ok := parseNginxTime(v)
		if !ok || int64(d.Seconds()) != want {
			t.Errorf("time %q: %v %v, want %ds", v, d, ok, want)
		}
	}
	for _, v := range []string{"", "1 h", "h", "1y", "1.5h", "-1s", "1hh"} {
		if _, ok := parseNginxTime(v); ok {
			t.Errorf("time %q parsed", v)
		}
	}
	for v, want := range map[string]int64{"1k": 1024, "2M": 2 << 20, "512": 512} {
		if n, ok := parseNginxSize(v); !ok || n != want {
			t.Errorf("size %q: %d %v", v, n, ok)
		}
	}
	for _, v := range []string{"1g", "1 k", "k", "-1", "1.5k"} {
		if _, ok := parseNginxSize(v); ok {
			t.Errorf("size %q parsed", v)
		}
	}
}
