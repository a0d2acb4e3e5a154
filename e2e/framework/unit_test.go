package framework

import (
	"bytes"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestDefaultSubnet(t *testing.T) {
	if got, want := DefaultSubnet(0), netip.MustParsePrefix("198.18.0.0/24"); got != want {
		t.Errorf("DefaultSubnet(0) = %s, want %s", got, want)
	}
	seen := map[netip.Prefix]int{}
	for seed := 1; seed <= 511; seed++ {
		p := DefaultSubnet(seed)
		if p.Bits() != 24 || !BenchmarkRange.Contains(p.Addr()) || p.Masked() != p {
			t.Fatalf("DefaultSubnet(%d) = %s, want a /24 inside %s", seed, p, BenchmarkRange)
		}
		if p == DefaultSubnet(0) {
			t.Fatalf("DefaultSubnet(%d) = %s, the subnet of make dev", seed, p)
		}
		if other, dup := seen[p]; dup {
			t.Fatalf("DefaultSubnet(%d) = DefaultSubnet(%d) = %s", seed, other, p)
		}
		seen[p] = seed
	}
	for _, seed := range []int{-1, 512, 1 << 40} {
		if p := DefaultSubnet(seed); !BenchmarkRange.Contains(p.Addr()) || p == DefaultSubnet(0) {
			t.Errorf("DefaultSubnet(%d) = %s", seed, p)
		}
	}
	if got, want := DefaultSubnet(510), netip.MustParsePrefix("198.19.255.0/24"); got != want {
		t.Errorf("DefaultSubnet(510) = %s, want %s", got, want)
	}
}

func TestNthAddr(t *testing.T) {
	for _, tc := range []struct {
		subnet string
		n      int
		want   string // empty: not an address of the subnet
	}{
		{"198.18.3.0/24", 1, "198.18.3.1"},
		{"198.18.3.0/24", 254, "198.18.3.254"},
		{"198.18.3.0/24", 255, ""}, // broadcast
		{"198.18.3.0/24", 256, ""},
		{"198.18.3.0/24", -1, ""},
		{"198.18.0.0/16", 256, "198.18.1.0"},
		{"198.18.0.0/16", 65534, "198.18.255.254"},
		{"198.18.0.4/30", 2, "198.18.0.6"},
		{"198.18.0.4/30", 3, ""},
		{"2001:db8::/64", 1, ""},
	} {
		got, ok := nthAddr(netip.MustParsePrefix(tc.subnet), tc.n)
		if tc.want == "" {
			if ok {
				t.Errorf("nthAddr(%s, %d) = %s, want none", tc.subnet, tc.n, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(tc.want) {
			t.Errorf("nthAddr(%s, %d) = %s, %t, want %s", tc.subnet, tc.n, got, ok, tc.want)
		}
	}
}

func TestLinkNamesFitIFNAMSIZ(t *testing.T) {
	// The longest pid Linux allows (2^22) and a large sequence number.
	name := NamePrefix + strconv.FormatInt(1<<22, 36) + "-v" + strconv.FormatInt(36*36*36*36-1, 36)
	if len(name) > 15 {
		t.Errorf("%q has %d characters, Linux allows 15", name, len(name))
	}
	if l := nextLinkName("b"); len(l) > 15 || !strings.HasPrefix(l, runPrefix) {
		t.Errorf("nextLinkName = %q", l)
	}
}

func TestStale(t *testing.T) {
	self := strconv.FormatInt(int64(os.Getpid()), 36)
	// 36^5-1 exceeds pid_max, so no process has it.
	gone := strconv.FormatInt(36*36*36*36*36-1, 36)
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"ptc" + gone + "-b1", true},
		{"ptc" + gone + "-dev-api-app-0", true},
		{"ptc" + self + "-b1", false}, // this process
		{"ptc1-b1", false},            // init is alive
		{"ptc" + gone, false},         // no "-"
		{"ptc-b1", false},
		{"ptc!!-b1", false},
		{"eth0", false},
		{"xptc" + gone + "-b1", false},
	} {
		if got := stale("ptc", tc.name); got != tc.want {
			t.Errorf("stale(ptc, %q) = %t, want %t", tc.name, got, tc.want)
		}
	}
}

func TestAllowLocalOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:80":           true,
		"127.3.4.5:80":           true,
		"[::1]:443":              true,
		"198.18.0.2:5678":        true,
		"198.19.255.254:80":      true,
		"[::ffff:198.18.0.2]:80": true,
		"198.20.0.1:80":          false,
		"10.96.0.1:443":          false,
		"192.168.1.1:80":         false,
		"8.8.8.8:53":             false,
		"[2001:db8::1]:80":       false,
	} {
		if err := allowLocalOnly("tcp4", addr, nil); (err == nil) != ok {
			t.Errorf("allowLocalOnly(%s) = %v, want allowed=%t", addr, err, ok)
		}
	}
}

func TestNewHTTPClientRefusesOtherAddresses(t *testing.T) {
	_, _, _, err := GetEcho(NewHTTPClient(), "http://192.0.2.1/", "")
	if err == nil || !strings.Contains(err.Error(), "may only connect to") {
		t.Errorf("GET to 192.0.2.1: %v, want a refusal", err)
	}
}

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module github.com/portico-ingress/portico\n\ngo 1.26.0\n": ModulePath,
		"// x\nmodule \"github.com/portico-ingress/portico\"\n":    ModulePath,
		"module github.com/portico-ingress/portico/hack/tools\n":   ModulePath + "/hack/tools",
		"go 1.26.0\n": "",
	} {
		if got := modulePath([]byte(in)); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + "/e2e/framework/doc.go"); err != nil {
		t.Errorf("RepoRoot() = %s: %v", root, err)
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"", 3, ""},
	} {
		if got := string(tail([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestLinePrefixer(t *testing.T) {
	var out bytes.Buffer
	w := &linePrefixer{w: &out, prefix: "etcd: "}
	for _, s := range []string{"one\ntw", "o\n", "three"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got, want := out.String(), "etcd: one\netcd: two\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFreePortUnique(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p := FreePort()
		if seen[p] || p <= 0 {
			t.Fatalf("FreePort returned %d twice or invalid", p)
		}
		seen[p] = true
	}
}
