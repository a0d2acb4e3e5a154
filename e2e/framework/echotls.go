package framework

import (
	"context"
	"crypto/tls"
	"errors"
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
	bin, err := echoBinary(ctx)
	if err != nil {
		return nil, err
	}
	crt, key := filepath.Join(dir, pod+".crt"), filepath.Join(dir, pod+".key")
	if err := os.WriteFile(crt, certPEM, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		return nil, err
	}
	addr := netip.AddrPortFrom(host.Addr(), uint16(port))
	out := new(syncBuffer)
	cmd := host.Command(bin, append([]string{"--listen=" + addr.String(), "--service=" + service, "--pod=" + pod, "--tls-cert=" + crt, "--tls-key=" + key}, flags...)...)
	cmd.Stdout, cmd.Stderr = out, out
	proc, err := startProcess("echoserver "+pod, cmd)
	if err != nil {
		return nil, err
	}
	e := &Echo{addr: addr, proc: proc, out: out}
	rctx, cancel := context.WithTimeout(ctx, echoReadyTimeout)
	defer cancel()
	c := NewHTTPClient(WithTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // test server with a throwaway certificate
	c.Timeout = time.Second
	url := "https://" + addr.String() + "/"
	for {
		_, resp, _, err := GetEcho(c, url, "")
		if err == nil && resp != nil && resp.Pod == pod {
			return e, nil
		}
		select {
		case <-proc.done:
			return nil, proc.exitError(out.Bytes())
		case <-rctx.Done():
			return nil, errors.Join(fmt.Errorf("%s not answering on %s over TLS: %v; output:\n%s", pod, addr, err, tail(out.Bytes(), 30)), proc.stop(echoStopGrace))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
