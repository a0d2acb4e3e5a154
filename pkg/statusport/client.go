package statusport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portico-ingress/portico/pkg/plan"
)

// Client talks to one of Portico's loopback HTTP ports: nginx's status
// port above all (the Lua configuration endpoints, the checksum of the
// running config, the request counters), and for the tools the
// controller's healthz port, which answers GETs the same way.
type Client struct {
	// BaseURL is e.g. http://127.0.0.1:10246.
	BaseURL string
	HTTP    *http.Client
}

// maxBody bounds what a GET reads: the routes of 10,000 hosts are tens of
// MB.
const maxBody = 256 << 20

// New returns a Client for baseURL whose requests take at most timeout.
// It never goes through a proxy: the ports are loopback or port-forwarded.
func New(baseURL string, timeout time.Duration) *Client {
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP:    &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, MaxIdleConns: 4}},
	}
}

// Loopback returns a Client for nginx's status port on 127.0.0.1:port.
func Loopback(port int) *Client {
	return New(fmt.Sprintf("http://127.0.0.1:%d", port), 5*time.Second)
}

// ErrStaleBase is a patch refused because nginx is not at its base
// generation (nginx restarted, or another push came between).
var ErrStaleBase = errors.New("nginx is not at the patch's base generation")

// Pushed is a Lua endpoint's answer to a push it took: its new generation
// and the items it refused, by name, with their reasons.
type Pushed struct {
	Generation string
	Refused    map[string]string
}

// Push replaces what the Lua endpoint at path holds with body, or, with a
// base generation, patches it. The endpoint takes what it can: an item it
// refuses is named in the answer, with its reason.
func (c *Client) Push(ctx context.Context, path string, body []byte, base string) (Pushed, error) {
	u := c.BaseURL + path
	if base != "" {
		u += "?base=" + url.QueryEscape(base)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return Pushed{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Pushed{}, fmt.Errorf("push %s: %w", path, err)
	}
	defer resp.Body.Close()
	// Each refusal's reason is at most 300 bytes.
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case err != nil:
		return Pushed{}, fmt.Errorf("push %s: %w", path, err)
	case resp.StatusCode == http.StatusConflict && base != "":
		return Pushed{}, fmt.Errorf("push %s: %w: %s", path, ErrStaleBase, strings.TrimSpace(string(msg)))
	case resp.StatusCode != http.StatusCreated:
		return Pushed{}, fmt.Errorf("push %s: nginx answered %s: %.4096s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	var answer struct {
		Refused map[string]string `json:"refused"`
	}
	if err := json.Unmarshal(msg, &answer); err != nil {
		return Pushed{}, fmt.Errorf("push %s: nginx took it but its answer does not decode: %v", path, err)
	}
	return Pushed{Generation: resp.Header.Get("X-Portico-Generation"), Refused: answer.Refused}, nil
}

// Get returns the body of a 200 answer to GET path.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s%s: %s: %s", c.BaseURL, path, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// GetJSON decodes the answer to GET path into v.
func (c *Client) GetJSON(ctx context.Context, path string, v any) error {
	b, err := c.Get(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Checksum returns the checksum of the config the answering worker runs.
func (c *Client) Checksum(ctx context.Context) (string, error) {
	b, err := c.Get(ctx, plan.ChecksumPath)
	return strings.TrimSpace(string(b)), err
}

// Backends returns the Lua balancer's backends as nginx holds them.
func (c *Client) Backends(ctx context.Context) (*plan.Backends, error) {
	var b plan.Backends
	if err := c.GetJSON(ctx, plan.BackendsPath, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// Routes returns the Lua router's hosts as nginx holds them.
func (c *Client) Routes(ctx context.Context) (*plan.Routes, error) {
	var r plan.Routes
	if err := c.GetJSON(ctx, plan.RoutesPath, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
