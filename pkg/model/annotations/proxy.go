package annotations

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameBackendProtocol     = "backend-protocol"
	nameProxyBodySize       = "proxy-body-size"
	nameProxyConnectTimeout = "proxy-connect-timeout"
	nameProxySendTimeout    = "proxy-send-timeout"
	nameProxyReadTimeout    = "proxy-read-timeout"
	nameProxyBuffering      = "proxy-buffering"
	nameProxyBufferSize     = "proxy-buffer-size"
	nameProxyNextUpstream   = "proxy-next-upstream"
	nameProxyNextTries      = "proxy-next-upstream-tries"
	nameProxyNextTimeout    = "proxy-next-upstream-timeout"
	nameUpstreamVhost       = "upstream-vhost"
	nameProxyHTTPVersion    = "proxy-http-version"
	nameEnableAccessLog     = "enable-access-log"
	nameEnableRewriteLog    = "enable-rewrite-log"
	nameLimitRate           = "limit-rate"
	nameLimitRateAfter      = "limit-rate-after"
	nameRequestBuffering    = "proxy-request-buffering"
	nameBodyBufferSize      = "client-body-buffer-size"
	nameProxyBuffersNumber  = "proxy-buffers-number"
	nameMaxTempFileSize     = "proxy-max-temp-file-size"
	nameBusyBuffersSize     = "proxy-busy-buffers-size"
)

// BackendProtocol is how nginx talks to the backend.
type BackendProtocol string

const (
	ProtoHTTP  BackendProtocol = "HTTP"
	ProtoHTTPS BackendProtocol = "HTTPS"
	ProtoGRPC  BackendProtocol = "GRPC"
	ProtoGRPCS BackendProtocol = "GRPCS"
	// ProtoAutoHTTP speaks to the backend as the client spoke to nginx:
	// HTTPS for HTTPS requests, HTTP for the others.
	ProtoAutoHTTP BackendProtocol = "AUTO_HTTP"
	// ProtoFCGI speaks FastCGI (fastcgi_pass), as PHP-FPM does.
	ProtoFCGI BackendProtocol = "FCGI"
)

// Size is an nginx size: digits with an optional k, K, m, M, g or G.
type Size string

// Seconds is a duration in whole seconds; nginx gets it as "Ns".
type Seconds int

// Proxy holds the proxy_* settings of a location; a zero field keeps the
// global default.
type Proxy struct {
	Protocol       BackendProtocol `json:"protocol,omitempty"`
	BodySize       Size            `json:"bodySize,omitempty"`
	ConnectTimeout Seconds         `json:"connectTimeout,omitempty"`
	SendTimeout    Seconds         `json:"sendTimeout,omitempty"`
	ReadTimeout    Seconds         `json:"readTimeout,omitempty"`
	// Buffering is "on", "off" or "" (default).
	Buffering  string `json:"buffering,omitempty"`
	BufferSize Size   `json:"bufferSize,omitempty"`
	// BuffersNumber is how many BufferSize buffers a response gets
	// (proxy_buffers); 0 for Buffers' default. Set alone, it comes with
	// BufferSize 4k, nginx's default on most platforms.
	BuffersNumber int `json:"buffersNumber,omitempty"`
	// BusyBuffersSize caps the buffers busy sending an answer to the
	// client while it is not yet read whole (proxy_busy_buffers_size);
	// "" is BufferSize when that is set, else nginx's default.
	BusyBuffersSize Size `json:"busyBuffersSize,omitempty"`
	// MaxTempFileSize caps the temporary file of a buffered response; "0"
	// turns such files off.
	MaxTempFileSize Size `json:"maxTempFileSize,omitempty"`
	// RequestBuffering is "on", "off" (the body streams to the backend as
	// it arrives) or "" (on).
	RequestBuffering string `json:"requestBuffering,omitempty"`
	// BodyBufferSize is the memory for a request body before it goes to a
	// temporary file (client_body_buffer_size).
	BodyBufferSize Size `json:"bodyBufferSize,omitempty"`
	// NextUpstream are proxy_next_upstream conditions, each from
	// nextUpstreamTokens.
	NextUpstream []string `json:"nextUpstream,omitempty"`
	// NextUpstreamTries and NextUpstreamTimeout are nil when unset; 0
	// means unlimited, as in nginx.
	NextUpstreamTries   *int     `json:"nextUpstreamTries,omitempty"`
	NextUpstreamTimeout *Seconds `json:"nextUpstreamTimeout,omitempty"`
	// UpstreamVhost replaces the Host header sent to the backend.
	UpstreamVhost string `json:"upstreamVhost,omitempty"`
	// ConnectionHeader replaces the Connection header sent to the backend
	// (connection-proxy-header): "close", "keep-alive" or "" (upgrade for
	// upgrade requests, else none).
	ConnectionHeader string `json:"connectionHeader,omitempty"`
	// HTTPVersion is "1.0", "1.1" or "" (1.1).
	HTTPVersion string `json:"httpVersion,omitempty"`
	// SSL is how nginx checks an HTTPS or GRPCS backend; nil: it does not.
	SSL *ProxySSL `json:"ssl,omitempty"`
	// Redirect rewrites Location and Refresh of answers (proxy_redirect;
	// nil: off, the http level's); CookieDomain and CookiePath rewrite
	// Set-Cookie (nil: nginx's off).
	Redirect     *Rewrite `json:"redirect,omitempty"`
	CookieDomain *Rewrite `json:"cookieDomain,omitempty"`
	CookiePath   *Rewrite `json:"cookiePath,omitempty"`
	// LimitRate caps the answer's rate per connection in KiB/s after the
	// first LimitRateAfter KiB (limit_rate, limit_rate_after); nil: none.
	LimitRate      *int `json:"limitRate,omitempty"`
	LimitRateAfter *int `json:"limitRateAfter,omitempty"`
	// NoAccessLog leaves the location's requests out of the access log
	// (enable-access-log: "false"); RewriteLog logs its rewrites
	// (enable-rewrite-log). Not proxy_* settings, but per location like
	// them.
	NoAccessLog bool `json:"noAccessLog,omitempty"`
	RewriteLog  bool `json:"rewriteLog,omitempty"`
}

// IsZero reports whether no setting is made.
func (p Proxy) IsZero() bool {
	return p.Protocol == "" && p.BodySize == "" && p.ConnectTimeout == 0 && p.SendTimeout == 0 &&
		p.ReadTimeout == 0 && p.Buffering == "" && p.BufferSize == "" && len(p.NextUpstream) == 0 &&
		p.NextUpstreamTries == nil && p.NextUpstreamTimeout == nil && p.UpstreamVhost == "" && p.HTTPVersion == "" &&
		p.BuffersNumber == 0 && p.MaxTempFileSize == "" && p.RequestBuffering == "" && p.BodyBufferSize == "" && p.SSL == nil &&
		p.Redirect == nil && p.CookieDomain == nil && p.CookiePath == nil && p.LimitRate == nil && p.LimitRateAfter == nil &&
		!p.NoAccessLog && !p.RewriteLog && p.BusyBuffersSize == "" && p.ConnectionHeader == ""
}

// Buffers is the number of BufferSize buffers of proxy_buffers.
func (p Proxy) Buffers() int {
	if p.BuffersNumber == 0 {
		return 4
	}
	return p.BuffersNumber
}

// IsGRPC reports whether the location uses grpc_pass.
func (p Proxy) IsGRPC() bool { return p.Protocol == ProtoGRPC || p.Protocol == ProtoGRPCS }

var (
	sizeGrammar    = regexp.MustCompile(`^[0-9]{1,9}[kKmMgG]?$`)
	secondsGrammar = regexp.MustCompile(`^[0-9]{1,7}s?$`)
	// nextUpstreamTokens are the conditions nginx's proxy_next_upstream takes.
	nextUpstreamTokens = map[string]bool{"error": true, "timeout": true, "invalid_header": true, "http_500": true,
		"http_502": true, "http_503": true, "http_504": true, "http_403": true, "http_404": true, "http_429": true,
		"non_idempotent": true, "off": true}
)

// ParseSize parses an nginx size such as 0, 1024, 8k or 8m, at most 1 TiB.
func ParseSize(v string) (Size, bool) {
	if !sizeGrammar.MatchString(v) || Size(v).Bytes() > 1<<40 {
		return "", false
	}
	return Size(v), true
}

// bytesOr0 is Bytes, 0 for "".
func (s Size) bytesOr0() int64 {
	if s == "" {
		return 0
	}
	return s.Bytes()
}

// Bytes is the size in bytes.
func (s Size) Bytes() int64 {
	v := string(s)
	mul := int64(1)
	switch v[len(v)-1] {
	case 'k', 'K':
		mul = 1 << 10
	case 'm', 'M':
		mul = 1 << 20
	case 'g', 'G':
		mul = 1 << 30
	}
	n, _ := strconv.ParseInt(strings.TrimRight(v, "kKmMgG"), 10, 64)
	return n * mul
}

// maxBufferSize bounds proxy-buffer-size: nginx allocates it per request.
const maxBufferSize = 1 << 20

// maxBodyBufferSize bounds client-body-buffer-size: nginx allocates it
// per request with a body.
const maxBodyBufferSize = 64 << 20

// maxBuffersNumber bounds proxy-buffers-number: buffers a response gets.
const maxBuffersNumber = 64

// maxRateKiB bounds limit-rate and limit-rate-after (KiB, ~1 GiB).
const maxRateKiB = 1 << 20

// ParseSeconds parses whole seconds as ingress-nginx takes them ("30"),
// also with an "s" suffix ("30s").
func ParseSeconds(v string) (Seconds, bool) {
	if !secondsGrammar.MatchString(v) {
		return 0, false
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v, "s"))
	return Seconds(n), true
}

func parseProxy(a Annotations) (Proxy, []diag.Diagnostic) {
	var (
		p  Proxy
		ds []diag.Diagnostic
	)
	if v, ok := a.lookup(nameBackendProtocol); ok {
		switch BackendProtocol(strings.ToUpper(v)) {
		case ProtoHTTP, ProtoHTTPS, ProtoGRPC, ProtoGRPCS, ProtoAutoHTTP, ProtoFCGI:
			p.Protocol = BackendProtocol(strings.ToUpper(v))
		default:
			ds = append(ds, invalid(nameBackendProtocol, v, "want HTTP, HTTPS, AUTO_HTTP, GRPC, GRPCS or FCGI")...)
		}
	}
	size := func(name string, dst *Size, min, max int64, want string) {
		if v, ok := a.lookup(name); ok {
			if s, ok := ParseSize(v); ok && s.Bytes() >= min && s.Bytes() <= max {
				*dst = s
			} else {
				ds = append(ds, invalid(name, v, want)...)
			}
		}
	}
	size(nameProxyBodySize, &p.BodySize, 0, 1<<40, "want an nginx size such as 0 (unlimited), 1024, 8k or 8m")
	size(nameProxyBufferSize, &p.BufferSize, 1<<10, maxBufferSize, "want an nginx size from 1k to 1m such as 4k or 16k")
	size(nameBodyBufferSize, &p.BodyBufferSize, 1<<10, maxBodyBufferSize, "want an nginx size from 1k to 64m such as 16k or 1m")
	// nginx reads this one as a size, which takes no g: 1024m for 1g.
	size(nameMaxTempFileSize, &p.MaxTempFileSize, 0, 1<<40, "want an nginx size in k or m such as 0 (no temporary files) or 1024m")
	if t := p.MaxTempFileSize; t != "" && strings.ContainsAny(string(t), "gG") {
		p.MaxTempFileSize = ""
		ds = append(ds, invalid(nameMaxTempFileSize, string(t), "want an nginx size in k or m such as 0 (no temporary files) or 1024m")...)
	}
	if v, ok := a.lookup(nameProxyBuffersNumber); ok {
		// proxy_busy_buffers_size is BufferSize: nginx needs at least two.
		if n, err := strconv.Atoi(v); err == nil && n >= 2 && n <= maxBuffersNumber && v == strconv.Itoa(n) {
			p.BuffersNumber = n
			if p.BufferSize == "" {
				p.BufferSize = "4k"
			}
		} else {
			ds = append(ds, invalid(nameProxyBuffersNumber, v, fmt.Sprintf("want a number of buffers from 2 to %d", maxBuffersNumber))...)
		}
	}
	ds = append(ds, parseBusyBuffers(a, &p)...)
	secs := func(name string, dst *Seconds, min Seconds) bool {
		if v, ok := a.lookup(name); ok {
			if s, ok := ParseSeconds(v); ok && s >= min {
				*dst = s
				return true
			}
			ds = append(ds, invalid(name, v, fmt.Sprintf("want whole seconds from %d such as 30 or 30s", min))...)
		}
		return false
	}
	secs(nameProxyConnectTimeout, &p.ConnectTimeout, 1)
	secs(nameProxySendTimeout, &p.SendTimeout, 1)
	secs(nameProxyReadTimeout, &p.ReadTimeout, 1)
	var nt Seconds
	if secs(nameProxyNextTimeout, &nt, 0) {
		p.NextUpstreamTimeout = &nt
	}
	var d []diag.Diagnostic
	p.Buffering, d = parseOnOff(a, nameProxyBuffering)
	ds = append(ds, d...)
	// nginx refuses a temporary file smaller than a buffer (8k: the
	// default buffers are a memory page, 4k or 8k).
	if t := p.MaxTempFileSize; t != "" && t.Bytes() != 0 && t.Bytes() < max(8<<10, p.BufferSize.bytesOr0()) {
		ds = append(ds, invalid(nameMaxTempFileSize, string(t), "want 0 or at least 8k and proxy-buffer-size")...)
		p.MaxTempFileSize = ""
	}
	p.RequestBuffering, d = parseOnOff(a, nameRequestBuffering)
	ds = append(ds, d...)
	p.NextUpstream, d = parseTokens(a, nameProxyNextUpstream, nextUpstreamTokens,
		"want a space-separated list of error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, off")
	ds = append(ds, d...)
	if v, ok := a.lookup(nameProxyNextTries); ok {
		n, err := strconv.Atoi(v)
		if err == nil && n >= 0 && n <= 100 {
			p.NextUpstreamTries = &n
		} else {
			ds = append(ds, invalid(nameProxyNextTries, v, "want a number of tries from 0 (unlimited) to 100")...)
		}
	}
	if v, ok := a.lookup(nameUpstreamVhost); ok {
		h, port, hasPort := strings.Cut(v, ":")
		n, err := strconv.Atoi(port)
		if len(h) <= 253 && dnsName.MatchString(h) && (!hasPort || err == nil && n > 0 && n < 65536 && port == strconv.Itoa(n)) {
			p.UpstreamVhost = strings.ToLower(v)
		} else {
			ds = append(ds, invalid(nameUpstreamVhost, v, "want a host name such as app.internal, optionally with :port")...)
		}
	}
	if v, ok := a.lookup(nameProxyHTTPVersion); ok {
		if v == "1.0" || v == "1.1" {
			p.HTTPVersion = v
		} else {
			ds = append(ds, invalid(nameProxyHTTPVersion, v, "want 1.0 or 1.1")...)
		}
	}
	p.ConnectionHeader, d = parseConnectionHeader(a)
	ds = append(ds, d...)
	ds = append(ds, parseProxyRewrites(a, &p)...)
	kib := func(name string) *int {
		v, ok := a.lookup(name)
		if !ok {
			return nil
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= maxRateKiB && v == strconv.Itoa(n) {
			return &n
		}
		ds = append(ds, invalid(name, v, fmt.Sprintf("want KiB from 0 (no limit) to %d, digits only", maxRateKiB))...)
		return nil
	}
	p.LimitRate, p.LimitRateAfter = kib(nameLimitRate), kib(nameLimitRateAfter)
	if on, set, d := parseBool(a, nameEnableAccessLog); set {
		p.NoAccessLog = !on
	} else {
		ds = append(ds, d...)
	}
	on, _, d := parseBool(a, nameEnableRewriteLog)
	p.RewriteLog = on
	ds = append(ds, d...)
	p.SSL, d = parseProxySSL(a)
	ds = append(ds, d...)
	return p, ds
}

// parseBusyBuffers parses proxy-busy-buffers-size into p, whose
// BufferSize and BuffersNumber are parsed: nginx takes a size from the
// larger of proxy_buffer_size and one buffer up to, not including, all
// buffers but one. Set alone it comes with BufferSize 4k, as
// proxy-buffers-number does, so that the range is nginx's whatever the
// platform's page size: 4k up to 12k with the 4 buffers Portico then
// sets.
func parseBusyBuffers(a Annotations, p *Proxy) []diag.Diagnostic {
	v, ok := a.lookup(nameBusyBuffersSize)
	if !ok {
		return nil
	}
	size := p.BufferSize
	if size == "" {
		size = "4k"
	}
	lo, hi := size.Bytes(), int64(Proxy{BuffersNumber: p.BuffersNumber}.Buffers()-1)*size.Bytes()
	s, ok := ParseSize(v)
	if !ok || s.Bytes() < lo || s.Bytes() >= hi {
		return invalid(nameBusyBuffersSize, v, fmt.Sprintf("want an nginx size from %s (proxy-buffer-size) up to, not including, %d bytes (the buffers but one)", size, hi))
	}
	p.BufferSize, p.BusyBuffersSize = size, s
	return nil
}

// parseOnOff parses an annotation of nginx's on and off; "" when unset.
func parseOnOff(a Annotations, name string) (string, []diag.Diagnostic) {
	v, ok := a.lookup(name)
	switch {
	case !ok:
		return "", nil
	case v == "on" || v == "off":
		return v, nil
	}
	return "", invalid(name, v, "want on or off")
}

// parseTokens parses a space-separated list of tokens of allowed, at most
// as many as allowed holds; nil when unset.
func parseTokens(a Annotations, name string, allowed map[string]bool, want string) ([]string, []diag.Diagnostic) {
	v, ok := a.lookup(name)
	if !ok {
		return nil, nil
	}
	toks := strings.Fields(v)
	good := len(toks) > 0 && len(toks) <= len(allowed)
	for _, t := range toks {
		good = good && allowed[t]
	}
	if !good {
		return nil, invalid(name, v, want)
	}
	return toks, nil
}
