package e2e

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is the suite's nameserver, on the loopback: every Portico the
// suite starts resolves with it (--resolver), so that tests can give
// auth-url the names of echo pods. It answers A for the names tests add,
// an empty answer for their other types, NXDOMAIN for the rest.
type dnsServer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	a    map[string]netip.Addr // lower case, with the final dot
}

func startDNS() (*dnsServer, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	d := &dnsServer{conn: conn, a: map[string]netip.Addr{}}
	go d.serve()
	return d, nil
}

// addr is the server's address, IP:port.
func (d *dnsServer) addr() string { return d.conn.LocalAddr().String() }

// add makes name resolve to addr (IPv4).
func (d *dnsServer) add(name string, addr netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[strings.ToLower(strings.TrimSuffix(name, "."))+"."] = addr
}

func (d *dnsServer) close() { d.conn.Close() }

func (d *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if out, err := d.answer(buf[:n]); err == nil {
			_, _ = d.conn.WriteToUDP(out, from)
		}
	}
}

// answer is the reply to the query msg.
func (d *dnsServer) answer(msg []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	addr, known := d.a[strings.ToLower(q.Name.String())]
	d.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if known && q.Type == dnsmessage.TypeA {
		rr := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5}
		if err := b.AResource(rr, dnsmessage.AResource{A: addr.As4()}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}
