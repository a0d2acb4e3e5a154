package model

import (
	"strconv"
	"strings"
)

// ClientLimits are the ConfigMap's limits on client connections and
// requests: header buffers and timeouts, keep-alive, HTTP/2.
type ClientLimits struct {
	// HeaderBufferSize (client_header_buffer_size) and LargeHeaderBuffers
	// (large_client_header_buffers: a number and an nginx size, "4 8k")
	// bound a request's line and headers: a line longer than one large
	// buffer answers 414, a header field longer 400 (431 is never sent:
	// nginx answers 400 "Request Header Or Cookie Too Large").
	HeaderBufferSize   string `json:"headerBufferSize"`
	LargeHeaderBuffers string `json:"largeHeaderBuffers"`
	// HeaderTimeout and BodyTimeout are seconds to read the headers and
	// between two reads of the body.
	HeaderTimeout int `json:"headerTimeout"`
	BodyTimeout   int `json:"bodyTimeout"`
	// UnderscoresInHeaders accepts header names with "_"; IgnoreInvalid
	// drops headers with invalid names (else nginx answers 400).
	UnderscoresInHeaders bool `json:"underscoresInHeaders,omitempty"`
	IgnoreInvalidHeaders bool `json:"ignoreInvalidHeaders"`
	// KeepAlive is keepalive_timeout in seconds (0: none);
	// KeepAliveRequests the requests per connection.
	KeepAlive         int `json:"keepAlive"`
	KeepAliveRequests int `json:"keepAliveRequests"`
	// HTTP2 offers HTTP/2 (ALPN h2) on the HTTPS port, with
	// HTTP2MaxConcurrentStreams streams per connection.
	HTTP2                     bool `json:"http2"`
	HTTP2MaxConcurrentStreams int  `json:"http2MaxConcurrentStreams"`
}

func defaultClientLimits() ClientLimits {
	return ClientLimits{HeaderBufferSize: "1k", LargeHeaderBuffers: "4 8k", HeaderTimeout: 60, BodyTimeout: 60,
		IgnoreInvalidHeaders: true, KeepAlive: 75, KeepAliveRequests: 1000, HTTP2: true, HTTP2MaxConcurrentStreams: 128}
}

// Header buffers: nginx allocates them per connection; a large buffer
// must hold at least its connection pool (512 bytes).
const (
	maxHeaderBuffer       = 1 << 20
	minLargeHeaderBuffer  = 1 << 10
	maxLargeHeaderBuffers = 64
)

func parseLargeHeaderBuffers(v string, b *globalBuild) string {
	want := "a number of buffers from 1 to " + strconv.Itoa(maxLargeHeaderBuffers) + " and an nginx size from 1k to 1m, such as 4 8k"
	fs := strings.Fields(v)
	if len(fs) != 2 {
		return want
	}
	n, err := strconv.Atoi(fs[0])
	size, ok := parseNginxSize(fs[1])
	if err != nil || n < 1 || n > maxLargeHeaderBuffers || !ok || size < minLargeHeaderBuffer || size > maxHeaderBuffer {
		return want
	}
	b.g.Client.LargeHeaderBuffers = strconv.Itoa(n) + " " + fs[1]
	return ""
}

// ignoredSize is an ingress-nginx key that nginx no longer reads
// (http2-max-field-size, http2-max-header-size): its value is checked as
// the size it was, and has no effect, as in ingress-nginx.
func ignoredSize(v string, _ *globalBuild) string {
	if _, ok := parseNginxSize(v); !ok {
		return "an nginx size such as 16k"
	}
	return ""
}

// ignoredCount is ignoredSize for http2-max-requests.
func ignoredCount(v string, _ *globalBuild) string {
	if n, err := strconv.Atoi(v); err != nil || n < 0 {
		return "a number of requests"
	}
	return ""
}
