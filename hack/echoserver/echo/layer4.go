package echo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ServeTCP serves the TCP echo of a stream service on ln: each connection
// gets a greeting line, "pod=<pod> client=<address:port>\n", then every
// byte it sends back. With proxy, each connection starts with a PROXY
// protocol header (v1 or v2) and client is the address it names; else the
// connection's peer. A connection whose header is bad is closed.
func ServeTCP(ln net.Listener, pod string, proxy bool) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			client := c.RemoteAddr().String()
			if proxy {
				a, err := ReadProxyHeader(br)
				if err != nil {
					fmt.Fprintf(c, "pod=%s error=%q\n", pod, err.Error())
					return
				}
				client = a.String()
			}
			if _, err := fmt.Fprintf(c, "pod=%s client=%s\n", pod, client); err != nil {
				return
			}
			_, _ = io.Copy(c, br)
		}()
	}
}

// ServeUDP serves the UDP echo of a stream service on pc: each datagram
// is answered with "pod=<pod> " and the datagram. A datagram that starts
// with "sleep=<ms> " is answered after that many milliseconds (at most
// MaxSleep), as a slow DNS server would, without holding up the others.
func ServeUDP(pc net.PacketConn, pod string) error {
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		answer := append([]byte("pod="+pod+" "), buf[:n]...)
		if d, ok := udpDelay(buf[:n]); ok {
			time.AfterFunc(d, func() { _, _ = pc.WriteTo(answer, addr) })
			continue
		}
		_, _ = pc.WriteTo(answer, addr)
	}
}

// udpDelay is the delay a "sleep=<ms> " datagram asks for.
func udpDelay(q []byte) (time.Duration, bool) {
	rest, ok := bytes.CutPrefix(q, []byte("sleep="))
	if !ok {
		return 0, false
	}
	ms, _, ok := bytes.Cut(rest, []byte(" "))
	n, err := strconv.Atoi(string(ms))
	if !ok || err != nil || n < 0 {
		return 0, false
	}
	return min(time.Duration(n)*time.Millisecond, MaxSleep), true
}

// v2Signature starts a PROXY protocol v2 header.
var v2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// ReadProxyHeader reads a PROXY protocol header, version 1 (text) or 2
// (binary), from r and returns the source address it names.
func ReadProxyHeader(r *bufio.Reader) (netip.AddrPort, error) {
	sig, err := r.Peek(len(v2Signature))
	if err == nil && bytes.Equal(sig, v2Signature) {
		return readProxyV2(r)
	}
	line, err := r.ReadString('\n')
	if err != nil || len(line) > 107 || !strings.HasSuffix(line, "\r\n") {
		return netip.AddrPort{}, errors.New("no PROXY header")
	}
	f := strings.Fields(line)
	if len(f) != 6 || f[0] != "PROXY" || (f[1] != "TCP4" && f[1] != "TCP6") {
		return netip.AddrPort{}, fmt.Errorf("PROXY v1 header %q", strings.TrimSpace(line))
	}
	addr, err := netip.ParseAddr(f[2])
	port, perr := strconv.ParseUint(f[4], 10, 16)
	if err != nil || perr != nil {
		return netip.AddrPort{}, fmt.Errorf("PROXY v1 header %q", strings.TrimSpace(line))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func readProxyV2(r *bufio.Reader) (netip.AddrPort, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return netip.AddrPort{}, err
	}
	if hdr[12]>>4 != 2 || hdr[12]&0xf != 1 { // version 2, PROXY command
		return netip.AddrPort{}, fmt.Errorf("PROXY v2 version/command %#x", hdr[12])
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[14:16]))
	if _, err := io.ReadFull(r, body); err != nil {
		return netip.AddrPort{}, err
	}
	switch hdr[13] >> 4 { // address family
	case 1: // IPv4: src, dst, src port, dst port
		if len(body) >= 12 {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[0:4])), binary.BigEndian.Uint16(body[8:10])), nil
		}
	case 2: // IPv6
		if len(body) >= 36 {
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[0:16])), binary.BigEndian.Uint16(body[32:34])), nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("PROXY v2 address family %#x", hdr[13])
}

// ProxyV2 is a PROXY protocol v2 header of a TCP connection from src to
// dst (both IPv4 or both IPv6), as load balancers send it.
func ProxyV2(src, dst netip.AddrPort) []byte {
	b := append([]byte(nil), v2Signature...)
	fam, addrs := byte(0x11), append(src.Addr().AsSlice(), dst.Addr().AsSlice()...) // TCP over IPv4
	if src.Addr().Is6() {
		fam = 0x21
	}
	addrs = binary.BigEndian.AppendUint16(addrs, src.Port())
	addrs = binary.BigEndian.AppendUint16(addrs, dst.Port())
	b = append(b, 0x21, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(addrs)))
	return append(b, addrs...)
}
