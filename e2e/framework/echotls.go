package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// StartEchoTLS is StartEcho serving HTTPS with the PEM certificate (a
// chain: the leaf first) and key (written to dir), for backend-protocol
// HTTPS tests; flags are more echoserver flags (--tls-version,
// --tls-ciphers). It returns once the server answers over TLS.
func StartEchoTLS(ctx context.Context, host *Host, service, pod string, port int, certPEM, keyPEM []byte, dir string, flags ...string) (*Echo, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("echo %s: port %d out of range", pod, port)
	}
	crt, key := filepath.Join(dir, pod+".crt"), filepath.Join(dir, pod+".key")
	if err := os.WriteFile(crt, certPEM, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		return nil, err
	}
	addr := netip.AddrPortFrom(host.Addr(), uint16(port))
	c := NewHTTPClient(WithTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // test server with a throwaway certificate
	c.Timeout = time.Second
	return startEchoServer(ctx, host, pod, addr,
		append([]string{"--listen=" + addr.String(), "--service=" + service, "--pod=" + pod, "--tls-cert=" + crt, "--tls-key=" + key}, flags...),
		answersAs(c, "https://"+addr.String()+"/", pod))
}
