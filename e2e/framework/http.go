package framework

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

const (
	// httpTimeout bounds a whole request made with NewHTTPClient's client.
	httpTimeout = 30 * time.Second
	// maxBody bounds the body GetEcho reads.
	maxBody = 16 << 20
)

// ClientOption configures NewHTTPClient.
type ClientOption func(*http.Transport)

// DialAddr connects every request to addr, whatever host and port the URL
// names, like curl --connect-to ::ADDR:PORT: the URL still gives the Host
// header and the TLS server name.
func DialAddr(addr netip.AddrPort) ClientOption {
	return func(t *http.Transport) {
		dial := t.DialContext
		t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial(ctx, network, addr.String())
		}
	}
}

// WithTLSConfig sets the TLS configuration for https URLs, e.g. RootCAs
// holding a test CA.
func WithTLSConfig(cfg *tls.Config) ClientOption {
	return func(t *http.Transport) { t.TLSClientConfig = cfg }
}

// NewHTTPClient returns a client for tests. It never uses a proxy, never
// follows redirects (a 3xx is returned as is), times out after 30 s, and
// refuses to connect to anything but loopback and BenchmarkRange.
func NewHTTPClient(opts ...ClientOption) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: allowLocalOnly}
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	for _, o := range opts {
		o(t)
	}
	return &http.Client{
		Transport:     t,
		Timeout:       httpTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// allowLocalOnly is a net.Dialer Control that fails connections to any
// address but loopback, BenchmarkRange and the addresses this process's
// Hosts were given with AddAddress.
func allowLocalOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s %s: %w", network, address, err)
	}
	if a := ap.Addr().Unmap(); !a.IsLoopback() && !BenchmarkRange.Contains(a) && !hostAddress(a) {
		return fmt.Errorf("dial %s: tests may only connect to loopback, %s and addresses of their own hosts", address, BenchmarkRange)
	}
	return nil
}

// GetEcho sends GET url, with Host header host unless host is empty, and
// reads the answer. echo is the decoded body if the answer is JSON, as
// hack/echoserver sends, and nil otherwise (e.g. a page nginx generated);
// body is the raw body. err is set for transport failures and for a JSON
// body that is not an echo.Response.
func GetEcho(c *http.Client, url, host string) (status int, resp *echo.Response, body []byte, err error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if host != "" {
		req.Host = host
	}
	r, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err // already names method and URL
	}
	defer r.Body.Close()
	body, err = io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return r.StatusCode, nil, body, fmt.Errorf("GET %s: read body: %w", url, err)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" || len(body) == 0 {
		return r.StatusCode, nil, body, nil
	}
	resp = new(echo.Response)
	if err := json.Unmarshal(body, resp); err != nil {
		return r.StatusCode, nil, body, fmt.Errorf("GET %s: decode echo response: %w", url, err)
	}
	return r.StatusCode, resp, body, nil
}
