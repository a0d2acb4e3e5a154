package framework

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// StartStreamEcho runs hack/echoserver as the backend of a stream service
// in host's namespace: a TCP echo on host.Addr():tcpPort that first writes
// "pod=<pod> client=<address:port>\n" (the client of the PROXY protocol
// header it reads with proxy), and a UDP echo on udpPort answering
// "pod=<pod> <datagram>" (after <ms> for "sleep=<ms> ..."); a port of 0
// is not served. It returns once both
// answer.
func StartStreamEcho(ctx context.Context, host *Host, pod string, tcpPort, udpPort int, proxy bool) (*Echo, error) {
	args := []string{"--pod=" + pod}
	var tcp, udp netip.AddrPort
	if tcpPort != 0 {
		tcp = netip.AddrPortFrom(host.Addr(), uint16(tcpPort))
		args = append(args, "--tcp="+tcp.String())
	}
	if udpPort != 0 {
		udp = netip.AddrPortFrom(host.Addr(), uint16(udpPort))
		args = append(args, "--udp="+udp.String())
	}
	if proxy {
		args = append(args, "--proxy-protocol")
	}
	return startEchoServer(ctx, host, pod, tcp, args, func(context.Context) error { return streamReady(tcp, udp, pod, proxy) })
}

// streamReady checks that the TCP and UDP echoes answer as pod.
func streamReady(tcp, udp netip.AddrPort, pod string, proxy bool) error {
	if tcp.IsValid() {
		var header []byte
		if proxy {
			header = echo.ProxyV2(netip.MustParseAddrPort("198.18.0.1:1"), tcp)
		}
		c, err := DialStreamEcho(tcp.String(), header, time.Second)
		if err != nil {
			return fmt.Errorf("TCP %s: %w", tcp, err)
		}
		c.Close()
		if c.Pod != pod {
			return fmt.Errorf("TCP %s: %q", tcp, c.Greeting)
		}
	}
	if udp.IsValid() {
		got, err := UDPExchange(udp.String(), "ready", time.Second)
		if err != nil || got != "pod="+pod+" ready" {
			return fmt.Errorf("UDP %s: %q, %v", udp, got, err)
		}
	}
	return nil
}

// UDPExchange sends msg to addr from a new socket and returns the one
// answer, waiting at most timeout.
func UDPExchange(addr, msg string, timeout time.Duration) (string, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
