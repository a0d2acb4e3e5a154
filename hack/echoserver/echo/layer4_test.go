package echo

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestReadProxyHeader(t *testing.T) {
	v4 := netip.MustParseAddrPort("198.18.7.7:40000")
	v6 := netip.MustParseAddrPort("[2001:db8::7]:40001")
	for _, tc := range []struct {
		name string
		in   []byte
		want netip.AddrPort
	}{
		{"v1 TCP4", []byte("PROXY TCP4 198.18.7.7 198.18.0.1 40000 5432\r\nhello"), v4},
		{"v1 TCP6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 40001 5432\r\nhello"), v6},
		{"v2 IPv4", append(ProxyV2(v4, netip.MustParseAddrPort("198.18.0.1:5432")), "hello"...), v4},
		{"v2 IPv6", append(ProxyV2(v6, netip.MustParseAddrPort("[2001:db8::1]:5432")), "hello"...), v6},
	} {
		r := bufio.NewReader(bytes.NewReader(tc.in))
		got, err := ReadProxyHeader(r)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
			continue
		}
		if rest, _ := r.ReadString(0); rest != "hello" {
			t.Errorf("%s: after the header %q, want hello", tc.name, rest)
		}
	}
	for _, bad := range []string{"hello\r\n", "PROXY UNKNOWN\r\n", "PROXY TCP4 x 198.18.0.1 1 2\r\n", strings.Repeat("P", 200) + "\r\n"} {
		if a, err := ReadProxyHeader(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q read as %v", bad, a)
		}
	}
}

// A "sleep=<ms> " datagram is answered late, and others meanwhile at once.
func TestServeUDPSleep(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go ServeUDP(pc, "p") //nolint:errcheck // ends with pc
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	for _, q := range []string{"sleep=300 slow", "fast", "sleep=x bad"} {
		if _, err := c.Write([]byte(q)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 100)
	var got []string
	for range 3 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(buf[:n]))
	}
	want := []string{"pod=p fast", "pod=p sleep=x bad", "pod=p sleep=300 slow"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("answers %q, want %q", got, want)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("the slow answer came after %v, want 300ms", d)
	}
}
