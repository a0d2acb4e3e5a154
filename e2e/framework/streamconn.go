package framework

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"
)

// StreamConn is a TCP connection to a stream echo (StartStreamEcho),
// directly or through a proxy, whose greeting is read: the pod that
// answered and the client address it saw. Reads go on after the greeting.
type StreamConn struct {
	net.Conn
	r *bufio.Reader
	// Greeting is the echo's first line; Pod and Client its fields.
	Greeting, Pod, Client string
}

// DialStreamEcho connects to the stream echo at addr, writes header first
// (a PROXY protocol header, or nothing) and reads the greeting; the dial
// and the greeting each take at most timeout.
func DialStreamEcho(addr string, header []byte, timeout time.Duration) (*StreamConn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	if len(header) > 0 {
		if _, err := c.Write(header); err != nil {
			c.Close()
			return nil, err
		}
	}
	sc := &StreamConn{Conn: c, r: bufio.NewReader(c)}
	sc.Greeting, err = sc.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %q, %w", sc.Greeting, err)
	}
	for _, f := range strings.Fields(sc.Greeting) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pod":
			sc.Pod = v
		case "client":
			sc.Client = v
		}
	}
	_ = c.SetDeadline(time.Time{})
	return sc, nil
}

// Read reads what the echo sent after its greeting.
func (c *StreamConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Echoes writes msg and a newline and checks that they come back within
// timeout.
func (c *StreamConn) Echoes(msg string, timeout time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return err
	}
	got, err := c.r.ReadString('\n')
	if err != nil || got != msg+"\n" {
		return fmt.Errorf("echo of %q: %q, %v", msg, got, err)
	}
	return nil
}
