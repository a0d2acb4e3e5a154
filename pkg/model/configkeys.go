package model

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// ConfigKey is what Portico knows about one key of the controller's
// ConfigMap: whether and how it is supported, its parser, its default and
// its row in docs/configmap.md. configKeys holds one per key.
type ConfigKey struct {
	Name   string
	Status annotations.Status
	// Default is the value in effect when the key is unset: Portico's for
	// a supported key, ingress-nginx's for one Portico does not support.
	Default string
	// Meaning says what the key does.
	Meaning string
	// Differs says how Portico differs from ingress-nginx (Partly), or why
	// the key is not supported and what Portico does instead: a value it
	// always uses, or the annotation that sets it per Ingress.
	Differs string
	// Own marks a key of Portico's that ingress-nginx does not have.
	Own bool
	// Gone marks a key ingress-nginx removed before v1.15 (its docs no
	// longer list it); Differs names what replaced it.
	Gone bool
	// parse stores a valid value in b, or returns what the value must
	// look like; nil when not supported.
	parse func(v string, b *globalBuild) (want string)
}

// Supported reports whether the key is parsed and applied.
func (k ConfigKey) Supported() bool { return k.Status != annotations.NotSupported }

// Reasons that many keys share.
func fixed(what string) string {
	return "Portico always uses ingress-nginx's default (" + what + ")."
}

const (
	noStreamRetry     = "A TCP/UDP session goes to one endpoint, picked at random from its Service's ready ones; when it refuses the connection the session is closed, with no other endpoint tried (docs/layer4.md)."
	noOpenTelemetry   = "Portico's nginx has no OpenTelemetry module to configure: the keys of its Lua tracing are `enable-opentelemetry`, `otlp-*` and `otel-*` (docs/tracing.md)."
	noSpans           = "Debian has no nginx OpenTelemetry module: the trace context and nginx's span are made in Lua (docs/tracing.md); spans go to the collector as OTLP/HTTP JSON, not gRPC."
	noOpenTracing     = "ingress-nginx v1.15 still documents this key but no longer reads it: OpenTracing was removed (v1.10); OpenTelemetry replaced it (`enable-opentelemetry`, `otlp-collector-host` and the `otel-*` keys)."
	noStatusWhitelist = "nginx's `/nginx_status` is served only on the loopback status port, where the controller reads it for its metrics, not on the HTTP port as in ingress-nginx's catch-all server (in Portico that server also serves the hosts the Lua router routes)."
	goneOpenTracing   = "ingress-nginx removed OpenTracing (v1.10); OpenTelemetry replaced it (`enable-opentelemetry`, `otlp-collector-host` and the `otel-*` keys)."
	goneZipkin        = "ingress-nginx removed Zipkin tracing with OpenTracing (v1.10); OpenTelemetry replaced it (`enable-opentelemetry`, `otlp-collector-host`)."
	goneDatadog       = "ingress-nginx removed Datadog tracing with OpenTracing (v1.10); OpenTelemetry replaced it (`enable-opentelemetry`, `otlp-collector-host`, with Datadog's OTLP intake)."
	goneGlobalLimit   = "ingress-nginx removed the global rate limit (memcached) in v1.12; the `limit-rps`, `limit-rpm` and `limit-connections` annotations limit per client address and Ingress, in each controller."
	goneVTS           = "ingress-nginx removed the VTS module (v0.16); the Prometheus metrics replaced it (docs/metrics.md)."
)

// configKeys holds one entry for every ConfigMap key ingress-nginx v1.15.1
// documents, and for Portico's own keys. parseConfigMapKeeping parses the
// supported ones and reports the others; docs/configmap.md is generated
// from it (go run ./hack/gendocs).
var configKeys = []ConfigKey{
	{Name: "access-log-params", Status: annotations.Partly, Default: "",
		Meaning: "Parameters of `access_log`, space- or comma-separated: `buffer=<size>`, `gzip[=<level>]`, `flush=<time>` (with a buffer).",
		Differs: "Unset, Portico buffers the access log (`buffer=64k flush=1s`: one write per 64 KiB or per second); ingress-nginx writes each line at once. `if=` is Portico's (`skip-access-log-urls`).",
		parse: parsedOption(parseAccessLogParams, "buffer=<size>, gzip[=1-9] and flush=<time> (with buffer or gzip), each at most once",
			func(b *globalBuild) *[]string { return &b.logging.l.AccessLogParams })},
	{Name: "access-log-path", Status: annotations.Partly, Default: "/var/log/nginx/access.log",
		Meaning: "Where the access log goes: `/dev/stdout`, `/dev/stderr` or a file under `/var/log/` (its directory writable by nginx, such as a mounted volume); ingress-nginx's default, a link to standard output in its image, is standard output.",
		Differs: "Only those paths (no other file, no `syslog:` here: see `enable-syslog`).",
		parse:   logPathOption("/var/log/nginx/access.log", "/dev/stdout", func(b *globalBuild) *string { return &b.logging.l.AccessLogPath })},
	{Name: "add-headers", Status: annotations.Full, Default: "",
		Meaning: "A ConfigMap (`namespace/name`, watched) whose keys are headers set on every answer, replacing a backend's (headers-more, loaded only then). Names are letters, digits and `._-`; values printable ASCII, `$variables` as in `log-format-upstream`; a header that does not parse is left out with a Warning Event, the others apply. An Ingress's `custom-headers` replace them on its paths.",
		parse:   headerMapOption("add-headers", false, func(b *globalBuild) *[]Header { return &b.g.Headers.Response })},
	{Name: "allow-backend-server-header", Status: annotations.Full, Default: "false",
		Meaning: "Pass the backend's `Server` header to the client instead of nginx's (`proxy_pass_header Server`).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Headers.BackendServer })},
	{Name: "allow-cross-namespace-resources", Status: annotations.Full, Default: "false",
		Meaning: "Let annotations name Secrets of other namespaces as `namespace/name` (`auth-secret`, `auth-tls-secret`, `proxy-ssl-secret`); `false` refuses such an Ingress.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Policy.AllowCrossNamespace })},
	{Name: "allow-snippet-annotations", Status: annotations.Full, Default: "false",
		Meaning: "Accept the snippet annotations (`configuration-snippet`, `server-snippet`, `auth-snippet`); they also need `annotations-risk-level: Critical`. As in ingress-nginx, `false` with `Critical` drops an Ingress's snippets with a Warning (`SnippetsDisabled`) and serves it without them; below `Critical` a snippet refuses its Ingress (docs/snippets.md).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.AllowSnippets })},
	{Name: "annotation-value-word-blocklist", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated words no annotation value may contain; an Ingress with one is not served (Error `BlockedAnnotationWord`). Every value also passes its typed grammar (docs/annotations.md).",
		parse:   wordBlocklist},
	{Name: "annotations-risk-level", Status: annotations.Partly, Default: "High",
		Meaning: "The highest risk an annotation may have: `Low`, `Medium`, `High` or `Critical`. An annotation above it is an Error (`AnnotationRiskTooHigh`) and the Ingress is refused (docs/annotations.md, `Refused values`). `High` is the default of current ingress-nginx (lowered from `Critical` in 1.12).",
		Differs: "Portico gives some annotations another level than ingress-nginx does, by its own rule (docs/annotations.md, \"Risk levels\").",
		parse:   parsedOption(annotations.ParseRisk, "Critical, High, Medium or Low", func(b *globalBuild) *annotations.Risk { return &b.g.RiskLevel })},
	{Name: "bind-address", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated IPv4 and IPv6 addresses the HTTP and HTTPS ports listen on instead of all addresses of their family (the IPv6 ones only while IPv6 listens, `disable-ipv6`). Each must be an address of the host: a value naming another is refused with a Warning and the last good value kept (ingress-nginx's nginx would not start).",
		parse:   parseBindAddress},
	{Name: "block-cidrs", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated addresses and networks that get 403 on every host, whatever its Ingresses allow.",
		parse:   blockCIDRs},
	{Name: "block-referers", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated `Referer` values that get 403 on every host: exact (ignoring case, as nginx's map), or a regex after `~` (`~*`: ignoring case) in the syntax Go and PCRE share.",
		parse:   blockList(func(b *globalBuild) *[]string { return &b.g.Policy.BlockReferers })},
	{Name: "block-user-agents", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated `User-Agent` values that get 403 on every host: exact (ignoring case, as nginx's map), or a regex after `~` (`~*`: ignoring case) in the syntax Go and PCRE share.",
		parse:   blockList(func(b *globalBuild) *[]string { return &b.g.Policy.BlockUserAgents })},
	{Name: "brotli-level", Status: annotations.Full, Default: "4", Meaning: "Brotli compression level, 0–11 (with `enable-brotli`).",
		parse: levelOption(0, 11, func(b *globalBuild) *int { return &b.compression.brotli.Level })},
	{Name: "brotli-min-length", Status: annotations.Full, Default: "20", Meaning: "Smallest answer Brotli compresses, in bytes (by its `Content-Length`).",
		parse: minLengthOption(func(b *globalBuild) *int { return &b.compression.brotli.MinLength })},
	{Name: "brotli-types", Status: annotations.Full, Default: "(ingress-nginx's list)",
		Meaning: "Space-separated MIME types Brotli compresses besides `text/html`, or `*`; the default is `" + defaultBrotliTypes + "`.",
		parse:   typesOption(func(b *globalBuild) *[]string { return &b.compression.brotli.Types })},
	{Name: "client-body-buffer-size", Status: annotations.Full, Default: "(nginx's, 8k on x86-64)",
		Meaning: "Memory for a request body before it goes to a temporary file (`client_body_buffer_size`); the `client-body-buffer-size` annotation overrides it.",
		parse:   annotationDefault("client-body-buffer-size", func(s *annotations.Set, d *Defaults) { d.Proxy.BodyBufferSize = s.Proxy.BodyBufferSize })},
	{Name: "client-body-timeout", Status: annotations.Full, Default: "60", Meaning: "Seconds between two reads of a request body (`client_body_timeout`); a client slower than that gets 408.",
		parse: secondsOption(1, 86400, func(b *globalBuild) *int { return &b.g.Client.BodyTimeout })},
	{Name: "client-header-buffer-size", Status: annotations.Full, Default: "1k", Meaning: "Buffer for a request's line and headers (`client_header_buffer_size`, 1 to 1m); longer ones take `large-client-header-buffers`.",
		parse: sizeOption(1, maxHeaderBuffer, func(b *globalBuild) *string { return &b.g.Client.HeaderBufferSize })},
	{Name: "client-header-timeout", Status: annotations.Full, Default: "60", Meaning: "Seconds to read a request's line and headers (`client_header_timeout`); a client slower than that gets 408.",
		parse: secondsOption(1, 86400, func(b *globalBuild) *int { return &b.g.Client.HeaderTimeout })},
	{Name: "compute-full-forwarded-for", Status: annotations.Full, Default: "false",
		Meaning: "With `use-forwarded-headers`, append the client address to the `X-Forwarded-For` the request carried instead of replacing it.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.computeFullForwardedFor })},
	{Name: "custom-http-errors", Status: annotations.Full, Default: "",
		Meaning: "Status codes (400–599, comma-separated) intercepted on every location and served by `--default-backend-service`, asked for `/` with `X-Code` and the other headers of the `custom-http-errors` annotation; the client gets its answer and status, as in ingress-nginx. The annotation overrides it per Ingress.",
		parse: parsedOption(annotations.ParseHTTPErrors, "a comma-separated list of status codes from 400 to 599",
			func(b *globalBuild) *[]int { return &b.g.CustomHTTPErrors })},
	{Name: "datadog-collector-host", Gone: true, Default: "", Meaning: "Datadog tracing (removed).", Differs: goneDatadog},
	{Name: "datadog-collector-port", Gone: true, Default: "", Meaning: "Datadog tracing (removed).", Differs: goneDatadog},
	{Name: "datadog-environment", Gone: true, Default: "", Meaning: "Datadog tracing (removed).", Differs: goneDatadog},
	{Name: "datadog-operation-name-override", Gone: true, Default: "", Meaning: "Datadog tracing (removed).", Differs: goneDatadog},
	{Name: "datadog-priority-sampling", Gone: true, Default: "", Meaning: "Datadog tracing (removed).", Differs: goneDatadog},
	{Name: "datadog-sample-rate", Gone: true, Default: "", Meaning: "Datadog tracing (removed).", Differs: goneDatadog},
	{Name: "datadog-service-name", Gone: true, Default: "", Meaning: "Datadog tracing (removed).", Differs: goneDatadog},
	{Name: "debug-connections", Default: "", Meaning: "Clients whose connections nginx logs at debug level.",
		Differs: "Not implemented."},
	{Name: "default-type", Default: "text/html", Meaning: "MIME type of answers that name none.",
		Differs: fixed("`text/html`")},
	{Name: "denylist-source-range", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated addresses and networks that get 403 on the locations of every Ingress without the `denylist-source-range` annotation.",
		parse:   sourceRangeDefault(func(d *Defaults) *[]netip.Prefix { return &d.SourceRange.Deny })},
	{Name: "disable-access-log", Status: annotations.Full, Default: "false",
		Meaning: "`true`: no access log (`access_log off`); nothing per request is set for it.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.disableAccessLog })},
	{Name: "disable-ipv6", Status: annotations.Full, Default: "false",
		Meaning: "`true`: the HTTP and HTTPS ports listen on IPv4 only. Otherwise they listen on IPv6 too (`[::]`, or the IPv6 addresses of `bind-address`) wherever the host has IPv6, as in ingress-nginx.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Listen.DisableIPv6 })},
	{Name: "disable-ipv6-dns", Status: annotations.Full, Default: "false",
		Meaning: "`true`: nginx's resolver (names of `auth-url`) asks for IPv4 addresses only (`ipv6=off`) and skips IPv6 nameservers; so it does anyway where the host has no IPv6.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Listen.DisableIPv6DNS })},
	{Name: "dynamic-routing", Status: annotations.Full, Default: "true", Own: true,
		Meaning: "Route plain hosts in Lua, so that their Ingress changes need no reload (docs/architecture.md, \"Dynamic routing\"); `false`: every host is an nginx `server` block.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.DynamicRouting })},
	{Name: "enable-access-log-for-default-backend", Default: "false",
		Meaning: "Log the requests of the catch-all server's own `/`: hosts and paths no Ingress rule serves, answered by `--default-backend-service` or 404.",
		Differs: "Not implemented: Portico logs them, as with `true`."},
	{Name: "enable-aio-write", Default: "true", Meaning: "Write temporary files asynchronously (`aio_write`).",
		Differs: "nginx's default (no asynchronous writes) applies."},
	{Name: "enable-brotli", Status: annotations.Full, Default: "false",
		Meaning: "Compress answers with Brotli for clients that accept `br` (Debian's ngx_brotli filter module, loaded only then), with `Vary: Accept-Encoding` (which ingress-nginx leaves out without gzip); preferred to gzip when a client takes both.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.compression.enableBrotli })},
	{Name: "enable-modsecurity", Status: annotations.Full, Default: "false",
		Meaning: "ModSecurity (Debian's module, loaded only then or while an Ingress's `enable-modsecurity` asks) on every location, with Portico's `modsecurity.conf` (`SecRuleEngine DetectionOnly`, as ingress-nginx's: it logs and blocks nothing) or `modsecurity-snippet`; the loopback status server, where the controller pushes its configuration, runs without it. A request is inspected once: the internal locations nginx hands it on to (the `auth-url` subrequest, the `custom-http-errors` page, the sign-in redirect) turn it off, as ingress-nginx's do (e2e `TestModSecurityInternalLocations`). docs/waf.md.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.WAF.On })},
	{Name: "enable-multi-accept", Status: annotations.Full, Default: "true", Meaning: "A worker accepts all new connections at once (`multi_accept`).",
		parse: boolOption(func(b *globalBuild) *bool { return &b.g.Workers.MultiAccept })},
	{Name: "enable-ocsp", Status: annotations.Full, Default: "false",
		Meaning: "Staple OCSP responses to TLS handshakes, as ingress-nginx does in Lua: a certificate whose `tls.crt` carries its issuer and names an `http://` OCSP responder gets the responder's answer, fetched in the background (the first handshakes go without), kept only if it verifies and says good, fetched again hourly and stapled at most three days while the responder is down. Responder host names are resolved with nginx's resolver (`--resolver`).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.TLS.OCSP })},
	{Name: "enable-opentelemetry", Status: annotations.Partly, Default: "false",
		Meaning: "Every backend gets a W3C `traceparent` (made in Lua, per request) whose parent is nginx's span, which continues the client's trace or starts a new one (`opentelemetry-trust-incoming-span`, `otel-sampler*`); with `otlp-collector-host` the sampled spans are exported. The `enable-opentelemetry` annotation overrides it per Ingress. docs/tracing.md.",
		Differs: noSpans,
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Tracing.On })},
	{Name: "enable-opentracing", Gone: true, Default: "", Meaning: "OpenTracing (removed).", Differs: goneOpenTracing},
	{Name: "enable-owasp-modsecurity-crs", Status: annotations.Full, Default: "false",
		Meaning: "With `enable-modsecurity`, the OWASP Core Rule Set (Debian's `modsecurity-crs` 3.3, through `/etc/nginx/owasp-modsecurity-crs/nginx-modsecurity.conf` as in ingress-nginx) on every location. It blocks only with `SecRuleEngine On` (`modsecurity-snippet`). docs/waf.md.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.WAF.CRS })},
	{Name: "enable-real-ip", Status: annotations.Full, Default: "false",
		Meaning: "Take the client address from `X-Forwarded-For` of connections from `proxy-real-ip-cidr`.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.enableRealIP })},
	{Name: "enable-serial-reloads", Default: "false", Meaning: "Wait for old workers to exit before the next reload.",
		Differs: "Portico applies one configuration at a time and waits until nginx serves it, but not until old workers exit; most changes need no reload."},
	{Name: "enable-syslog", Status: annotations.Full, Default: "false",
		Meaning: "Send the access and error logs to `syslog-host` over UDP instead of their paths (`[emerg]` lines also stay on standard error, where Portico reads why nginx refused a reload).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.logging.enableSyslog })},
	{Name: "enable-underscores-in-headers", Status: annotations.Full, Default: "false",
		Meaning: "`true`: request headers with `_` in their names pass to backends (`underscores_in_headers`); otherwise nginx drops them (or answers 400 with `ignore-invalid-headers: \"false\"`).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Client.UnderscoresInHeaders })},
	{Name: "enable-vts-status", Gone: true, Default: "", Meaning: "The VTS status module (removed).", Differs: goneVTS},
	{Name: "error-log-level", Status: annotations.Full, Default: "notice",
		Meaning: "Level of nginx's error log: `debug`, `info`, `notice`, `warn`, `error`, `crit`, `alert` or `emerg` (Debian's nginx has no debug build: `debug` logs as `info`).",
		parse: validOption(func(v string) bool { return errorLogLevels[v] }, "debug, info, notice, warn, error, crit, alert or emerg",
			func(b *globalBuild) *string { return &b.logging.l.ErrorLogLevel })},
	{Name: "error-log-path", Status: annotations.Partly, Default: "/var/log/nginx/error.log",
		Meaning: "Where the error log goes: `/dev/stderr`, `/dev/stdout` or a file under `/var/log/`; ingress-nginx's default, a link to standard error in its image, is standard error. `[emerg]` lines also stay on standard error.",
		Differs: "Only those paths.",
		parse:   logPathOption("/var/log/nginx/error.log", "/dev/stderr", func(b *globalBuild) *string { return &b.logging.l.ErrorLogPath })},
	{Name: "force-ssl-redirect", Status: annotations.Full, Default: "false",
		Meaning: "Redirect plain HTTP to HTTPS (308) also on hosts without TLS; the `force-ssl-redirect` annotation overrides it.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Defaults.ForceSSLRedirect })},
	{Name: "forwarded-for-header", Status: annotations.Full, Default: "X-Forwarded-For",
		Meaning: "Header the client address is taken from with `use-forwarded-headers` or `enable-real-ip` (`real_ip_header`).",
		parse:   forwardedForOption},
	{Name: "forwarded-for-proxy-protocol-header", Default: "X-Forwarded-For-Proxy-Protocol",
		Meaning: "Header ingress-nginx uses inside nginx when `use-forwarded-headers` and `use-proxy-protocol` are both on.",
		Differs: "With `use-proxy-protocol`, the client address is the PROXY protocol's."},
	{Name: "generate-request-id", Status: annotations.Full, Default: "true",
		Meaning: "Send backends a new `X-Request-ID` when the client sent none (the client's own always passes): 32 hex digits made in Lua (a random prefix per nginx worker and a count), or nginx's `$request_id` when `log-format-upstream` names `$request_id`, so that the log and the header agree.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.GenerateRequestID })},
	{Name: "geoip2-autoreload-in-minutes", Default: "0", Meaning: "Reload the GeoIP2 databases every so many minutes.",
		Differs: "Not needed: Portico watches the database files and applies a replaced one at once (docs/geoip2.md)."},
	{Name: "global-allowed-response-headers", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated header names (letters, digits, `-` and `_`) the `custom-headers` annotation may set; an Ingress whose ConfigMap names another is refused. Empty: none.",
		parse: func(v string, b *globalBuild) string {
			var names []string
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n == "" {
					continue
				}
				if !annotations.ResponseHeaderName(n) {
					return "comma-separated header names of letters, digits, - and _"
				}
				names = append(names, n)
			}
			b.g.AllowedResponseHeaders = names
			return ""
		}},
	{Name: "global-auth-always-set-cookie", Status: annotations.Full, Default: "false",
		Meaning: "Global auth: the auth answer's `Set-Cookie` reaches the client with every answer, errors included (else with 2xx and 3xx answers), as `auth-always-set-cookie`. e2e `TestGlobalAuth`.",
		parse:   parseGlobalAuthAlwaysSetCookie},
	{Name: "global-auth-cache-duration", Status: annotations.Full, Default: "200 202 401 5m",
		Meaning: "Global auth: how long answers are kept, by status, as `auth-cache-duration`. e2e `TestGlobalAuth`.",
		parse:   parseGlobalAuthCacheValid},
	{Name: "global-auth-cache-key", Status: annotations.Partly, Default: "",
		Meaning: "Global auth: cache the auth answers per key and per location, as `auth-cache-key`. e2e `TestGlobalAuth`.",
		Differs: "As `auth-cache-key`: the key must name a variable of the request, from Portico's list.",
		parse:   parseGlobalAuthCacheKey},
	{Name: "global-auth-method", Status: annotations.Full, Default: "",
		Meaning: "Global auth: the auth request's method (`GET` when empty), as `auth-method`.",
		parse:   parseGlobalAuthMethod},
	{Name: "global-auth-request-redirect", Status: annotations.Full, Default: "",
		Meaning: "Global auth: the `X-Auth-Request-Redirect` the auth service gets (the request URI when empty), as `auth-request-redirect`. e2e `TestGlobalAuth`.",
		parse:   parseGlobalAuthRequestRedirect},
	{Name: "global-auth-response-headers", Status: annotations.Full, Default: "",
		Meaning: "Global auth: headers copied from the auth answer to the backend request, as `auth-response-headers`. e2e `TestGlobalAuth`.",
		parse:   parseGlobalAuthResponseHeaders},
	{Name: "global-auth-signin", Status: annotations.Partly, Default: "",
		Meaning: "Global auth: where a 401 of the auth service redirects, as `auth-signin`. e2e `TestGlobalAuth`.",
		Differs: "As `auth-signin`, and its host is a name, never `$host`.",
		parse:   parseGlobalAuthSignin},
	{Name: "global-auth-signin-redirect-param", Status: annotations.Full, Default: "rd",
		Meaning: "Global auth: the sign-in URL's parameter that carries the request's URL, as `auth-signin-redirect-param`. e2e `TestGlobalAuth`.",
		parse:   parseGlobalAuthSigninParam},
	{Name: "global-auth-snippet", Status: annotations.Partly, Default: "",
		Meaning: "Global auth: nginx directives in the location of the auth subrequest, as `auth-snippet`; taken only with `allow-snippet-annotations: \"true\"` and `annotations-risk-level: Critical`, as the snippet annotations.",
		Differs: "ingress-nginx takes it whatever `allow-snippet-annotations` says. It is checked as the snippet annotations are (docs/annotations.md).",
		parse:   parseGlobalAuthSnippet},
	{Name: "global-auth-url", Status: annotations.Partly, Default: "",
		Meaning: "An auth service every Ingress path asks first, as `auth-url` does (docs/auth.md), unless the path has its own `auth-url`, its Ingress sets `enable-global-auth: \"false\"` or it starts with one of `no-auth-locations`. Empty: none. e2e `TestGlobalAuth`.",
		Differs: "Its host is a name or an address, never `$host` (ingress-nginx prints the URL as is).",
		parse:   parseGlobalAuthURL},
	{Name: "global-rate-limit-memcached-connect-timeout", Gone: true, Default: "", Meaning: "Global rate limit (removed).", Differs: goneGlobalLimit},
	{Name: "global-rate-limit-memcached-host", Gone: true, Default: "", Meaning: "Global rate limit (removed).", Differs: goneGlobalLimit},
	{Name: "global-rate-limit-memcached-max-idle-timeout", Gone: true, Default: "", Meaning: "Global rate limit (removed).", Differs: goneGlobalLimit},
	{Name: "global-rate-limit-memcached-pool-size", Gone: true, Default: "", Meaning: "Global rate limit (removed).", Differs: goneGlobalLimit},
	{Name: "global-rate-limit-memcached-port", Gone: true, Default: "", Meaning: "Global rate limit (removed).", Differs: goneGlobalLimit},
	{Name: "global-rate-limit-status-code", Gone: true, Default: "", Meaning: "Global rate limit (removed).", Differs: goneGlobalLimit},
	{Name: "grpc-buffer-size-kb", Status: annotations.Full, Default: "0",
		Meaning: "`grpc_buffer_size` in KiB for GRPC backends (0: nginx's, one memory page); the `proxy-buffer-size` annotation overrides it per Ingress.",
		parse:   intOption(0, 65536, "a number of KiB from 0 to 65536", func(b *globalBuild) *int { return &b.g.GRPCBufferSizeKB })},
	{Name: "gzip-disable", Status: annotations.Full, Default: "",
		Meaning: "User agents not sent gzip'd answers: a regular expression matched without case (`gzip_disable`), or `msie6`.",
		parse: validOption(parseGzipDisable, "msie6, degradation, or a regular expression without quotes",
			func(b *globalBuild) *string { return &b.compression.gzip.Disable })},
	{Name: "gzip-level", Status: annotations.Full, Default: "1", Meaning: "gzip compression level, 1–9 (with `use-gzip`).",
		parse: levelOption(1, 9, func(b *globalBuild) *int { return &b.compression.gzip.Level })},
	{Name: "gzip-min-length", Status: annotations.Full, Default: "256", Meaning: "Smallest answer gzip compresses, in bytes (by its `Content-Length`).",
		parse: minLengthOption(func(b *globalBuild) *int { return &b.compression.gzip.MinLength })},
	{Name: "gzip-types", Status: annotations.Full, Default: "(ingress-nginx's list)",
		Meaning: "Space-separated MIME types gzip compresses besides `text/html`, or `*`; the default is `" + defaultCompressedTypes + "`.",
		parse:   typesOption(func(b *globalBuild) *[]string { return &b.compression.gzip.Types })},
	{Name: "hide-headers", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated backend answer headers not passed to the client (`proxy_hide_header`, `grpc_hide_header`).",
		parse:   parsedOption(parseHeaderNames, "comma-separated header names of letters, digits and ._-", func(b *globalBuild) *[]string { return &b.g.Headers.Hide })},
	{Name: "hsts", Status: annotations.Full, Default: "true",
		Meaning: "Send `Strict-Transport-Security` on HTTPS answers of hosts with TLS.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.hsts.on })},
	{Name: "hsts-include-subdomains", Status: annotations.Full, Default: "true", Meaning: "Add `includeSubDomains` to it.",
		parse: boolOption(func(b *globalBuild) *bool { return &b.hsts.includeSubdomains })},
	{Name: "hsts-max-age", Status: annotations.Full, Default: "31536000", Meaning: "Its `max-age`, in seconds.",
		parse: func(v string, b *globalBuild) string {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1<<31-1 {
				return "a number of seconds"
			}
			b.hsts.maxAge = n
			return ""
		}},
	{Name: "hsts-preload", Status: annotations.Full, Default: "false", Meaning: "Add `preload` to it.",
		parse: boolOption(func(b *globalBuild) *bool { return &b.hsts.preload })},
	{Name: "http-access-log-path", Status: annotations.Partly, Default: "",
		Meaning: "Where the HTTP access log goes, instead of `access-log-path`.",
		Differs: "As `access-log-path`: only `/dev/stdout`, `/dev/stderr` or a file under `/var/log/`.",
		parse:   logPathOption("/var/log/nginx/access.log", "/dev/stdout", func(b *globalBuild) *string { return &b.logging.httpAccessLogPath })},
	{Name: "http-redirect-code", Status: annotations.Full, Default: "308",
		Meaning: "Status of the redirects to HTTPS (`ssl-redirect`, `force-ssl-redirect`) and of `from-to-www-redirect`: 301, 302, 307 or 308.",
		parse:   parseRedirectCode},
	{Name: "http-snippet", Status: annotations.Full, Default: "",
		Meaning: "The operator's nginx configuration in the `http` block; not gated by `allow-snippet-annotations` (as in ingress-nginx). nginx -t checks it first: one nginx refuses is held at its last good value (Warning Event `ConfigNotApplied` on the ConfigMap) while the rest applies.",
		parse:   snippetOption(func(b *globalBuild) *string { return &b.g.Snippets.HTTP })},
	{Name: "http2-max-concurrent-streams", Status: annotations.Full, Default: "128", Meaning: "Concurrent HTTP/2 streams per connection (`http2_max_concurrent_streams`).",
		parse: intOption(1, 1<<20, "a number of streams from 1 to 1048576", func(b *globalBuild) *int { return &b.g.Client.HTTP2MaxConcurrentStreams })},
	{Name: "http2-max-field-size", Status: annotations.Full, Default: "",
		Meaning: "Deprecated in ingress-nginx for `large-client-header-buffers`: a size is accepted and has no effect, as there (nginx no longer reads `http2_max_field_size` since 1.19.7).",
		parse:   ignoredSize},
	{Name: "http2-max-header-size", Status: annotations.Full, Default: "",
		Meaning: "Deprecated in ingress-nginx for `large-client-header-buffers`: a size is accepted and has no effect, as there (nginx no longer reads `http2_max_header_size` since 1.19.7).",
		parse:   ignoredSize},
	{Name: "http2-max-requests", Status: annotations.Full, Default: "0",
		Meaning: "Deprecated in ingress-nginx: a number is accepted and has no effect, as there (nginx no longer reads `http2_max_requests` since 1.19.7); `keep-alive-requests` bounds an HTTP/2 connection's requests.",
		parse:   ignoredCount},
	{Name: "ignore-invalid-headers", Status: annotations.Full, Default: "true",
		Meaning: "Drop request headers with invalid names (`ignore_invalid_headers`); `false`: nginx answers 400 to them.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Client.IgnoreInvalidHeaders })},
	{Name: "jaeger-baggage-header", Default: "jaeger-baggage", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-collector-host", Default: "", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-collector-port", Default: "6831", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-debug-header", Default: "uber-debug-id", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-endpoint", Default: "", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-propagation-format", Default: "jaeger", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-sampler-host", Default: "http://127.0.0.1", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-sampler-param", Default: "1", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-sampler-port", Default: "5778", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-sampler-type", Default: "const", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-service-name", Default: "nginx", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-trace-baggage-header-prefix", Default: "uberctx-", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "jaeger-trace-context-header-name", Default: "uber-trace-id", Meaning: "OpenTracing (Jaeger).", Differs: noOpenTracing},
	{Name: "keep-alive", Status: annotations.Full, Default: "75", Meaning: "Seconds an idle client connection stays open (`keepalive_timeout`; 0: none).",
		parse: secondsOption(0, 86400, func(b *globalBuild) *int { return &b.g.Client.KeepAlive })},
	{Name: "keep-alive-requests", Status: annotations.Full, Default: "1000", Meaning: "Requests per client connection, HTTP/2 ones too (`keepalive_requests`).",
		parse: intOption(0, 100000000, "a number of requests from 0 to 100000000", func(b *globalBuild) *int { return &b.g.Client.KeepAliveRequests })},
	{Name: "large-client-header-buffers", Status: annotations.Full, Default: "4 8k",
		Meaning: "Number and size of the buffers for long request lines and headers (`large_client_header_buffers`): a longer request line gets 414, a longer header field, or more than fit, 400.",
		parse:   parseLargeHeaderBuffers},
	{Name: "limit-conn-status-code", Status: annotations.Full, Default: "503",
		Meaning: "Status of requests over `limit-connections`.",
		parse:   statusOption(func(b *globalBuild) *int { return &b.g.LimitConnStatus })},
	{Name: "limit-conn-zone-variable", Status: annotations.Full, Default: "$binary_remote_addr",
		Meaning: "The nginx variable the rate limits (`limit-rps`, `limit-rpm`, `limit-connections`) count by; each Ingress still counts apart.",
		parse:   parseLimitVariable},
	{Name: "limit-rate", Status: annotations.Full, Default: "0",
		Meaning: "Rate of answers per connection in KiB/s (`limit_rate`; 0: none), as the annotation takes it; the `limit-rate` annotation overrides it.",
		parse:   annotationDefault("limit-rate", func(s *annotations.Set, d *Defaults) { d.Proxy.LimitRate = noneIfZero(s.Proxy.LimitRate) })},
	{Name: "limit-rate-after", Status: annotations.Full, Default: "0",
		Meaning: "KiB of an answer sent before `limit-rate` applies (`limit_rate_after`); the `limit-rate-after` annotation overrides it.",
		parse:   annotationDefault("limit-rate-after", func(s *annotations.Set, d *Defaults) { d.Proxy.LimitRateAfter = noneIfZero(s.Proxy.LimitRateAfter) })},
	{Name: "limit-req-status-code", Status: annotations.Full, Default: "503",
		Meaning: "Status of requests over `limit-rps` or `limit-rpm`.",
		parse:   statusOption(func(b *globalBuild) *int { return &b.g.LimitReqStatus })},
	{Name: "load-balance", Status: annotations.Full, Default: "round_robin",
		Meaning: "Default algorithm of the Lua balancer: `round_robin` or `ewma`; the `load-balance` annotation overrides it.",
		parse:   parsedOption(annotations.ParseLoadBalance, "round_robin or ewma", func(b *globalBuild) *annotations.LoadBalance { return &b.g.LoadBalance })},
	{Name: "location-snippet", Status: annotations.Full, Default: "",
		Meaning: "The operator's nginx configuration in every location (the Lua router's too); not gated by `allow-snippet-annotations` (as in ingress-nginx). nginx -t checks it first: one nginx refuses is held at its last good value (Warning Event `ConfigNotApplied` on the ConfigMap) while the rest applies.",
		parse:   snippetOption(func(b *globalBuild) *string { return &b.g.Snippets.Location })},
	{Name: "log-format-escape-json", Status: annotations.Full, Default: "false",
		Meaning: "Escape the access log's variables for JSON strings (`escape=json`).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.logging.escapeJSON })},
	{Name: "log-format-escape-none", Status: annotations.Full, Default: "false",
		Meaning: "Do not escape the access log's variables (`escape=none`; wins over `log-format-escape-json`): a client can then write quotes and line breaks into the log.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.logging.escapeNone })},
	{Name: "log-format-stream", Default: "(ingress-nginx's)", Meaning: "Access log format of TCP/UDP services.",
		Differs: "Portico always logs TCP/UDP sessions in ingress-nginx's default format."},
	{Name: "log-format-upstream", Status: annotations.Partly, Default: "(Portico's)",
		Meaning: "Access log format: `$variables` (or `${variables}`) and printable ASCII but `'` and `\\`, so ingress-nginx's default and JSON formats pass. The variables are nginx's (docs/logging.md lists them), Portico's `$portico_backend`, `$portico_ingress`, `$portico_server`, `$portico_path`, ingress-nginx's `$geoip2_*` (docs/geoip2.md), and ingress-nginx's `$req_id`, `$proxy_upstream_name`, `$proxy_alternative_upstream_name`, `$namespace`, `$ingress_name`, `$service_name`, `$service_port`, `$location_path`; any other is refused. Portico's default: `" + defaultLogFormat + "`.",
		Differs: "Portico's default format differs (ingress-nginx's, with `$req_id`, makes an X-Request-ID with OpenSSL for every request); `$proxy_alternative_upstream_name` is always empty.",
		parse: func(v string, b *globalBuild) string {
			if want := checkLogFormat(v); want != "" {
				return want
			}
			b.g.LogFormat = v
			return ""
		}},
	{Name: "lua-shared-dicts", Default: "", Meaning: "Sizes of the Lua shared dictionaries.",
		Differs: "Portico's dictionaries have fixed sizes (backends and routes 64 MiB each, certificates 32 MiB, metrics 16 MiB)."},
	{Name: "main-snippet", Status: annotations.Full, Default: "",
		Meaning: "The operator's nginx configuration in nginx's main context; not gated by `allow-snippet-annotations` (as in ingress-nginx). nginx -t checks it first: one nginx refuses is held at its last good value (Warning Event `ConfigNotApplied` on the ConfigMap) while the rest applies.",
		parse:   snippetOption(func(b *globalBuild) *string { return &b.g.Snippets.Main })},
	{Name: "map-hash-bucket-size", Status: annotations.Full, Default: "64", Meaning: "Bucket size of nginx's map hash tables (`map_hash_bucket_size`).",
		parse: hashOption(1, maxHashBucket, func(b *globalBuild) *int { return &b.g.Hashes.MapBucketSize })},
	{Name: "max-worker-connections", Status: annotations.Full, Default: "16384",
		Meaning: "Connections per worker (`worker_connections`); 0: three quarters of `max-worker-open-files`.",
		parse:   intOption(0, 1<<20, "a number of connections from 0 to 1048576", func(b *globalBuild) *int { return &b.g.Workers.MaxConnections })},
	{Name: "max-worker-open-files", Status: annotations.Full, Default: "0",
		Meaning: "Open files per worker (`worker_rlimit_nofile`); 0: the controller's hard limit less 1024, at least 1024.",
		parse:   intOption(0, 1<<24, "a number of files from 0 to 16777216", func(b *globalBuild) *int { return &b.g.Workers.MaxOpenFiles })},
	{Name: "modsecurity-snippet", Status: annotations.Partly, Default: "",
		Meaning: "With `enable-modsecurity`, ModSecurity rules in place of Portico's `modsecurity.conf` (`modsecurity_rules` at the http level), e.g. `SecRuleEngine On`.",
		Differs: "Gated as snippets are: taken only with `allow-snippet-annotations: \"true\"` and `annotations-risk-level: Critical` (ingress-nginx takes it always); printed in nginx's single quotes as ingress-nginx does, so every `'` must be escaped as `\\'`.",
		parse: func(v string, b *globalBuild) string {
			if !b.g.AllowSnippets || b.g.RiskLevel != annotations.RiskCritical {
				return "allow-snippet-annotations: \"true\" and annotations-risk-level: Critical first (it is a snippet)"
			}
			r, want := annotations.ParseModSecurityRules(v)
			b.g.WAF.Rules = r
			return want
		}},
	{Name: "nginx-status-ipv4-whitelist", Default: "127.0.0.1", Meaning: "Clients allowed ingress-nginx's `/nginx_status` on its HTTP port.",
		Differs: noStatusWhitelist},
	{Name: "nginx-status-ipv6-whitelist", Default: "::1", Meaning: "As above, IPv6 clients.",
		Differs: noStatusWhitelist},
	{Name: "no-auth-locations", Status: annotations.Full, Default: "/.well-known/acme-challenge",
		Meaning: "Comma-separated path prefixes: an Ingress path that starts with one is checked by no auth, neither global auth nor its own `auth-url` or basic auth, as in ingress-nginx (an ACME HTTP-01 solver's paths). e2e `TestGlobalAuth`.",
		parse:   parseNoAuthLocations},
	{Name: "no-tls-redirect-locations", Status: annotations.Full, Default: "/.well-known/acme-challenge",
		Meaning: "Comma-separated prefixes of Ingress paths never redirected to HTTPS, whatever `ssl-redirect` or `force-ssl-redirect` say: an ACME HTTP-01 solver's Ingress (`/.well-known/acme-challenge/<token>`) answers over HTTP on a host that redirects the rest. A string prefix of the Ingress path, as in ingress-nginx (a request URI under it on another path is redirected).",
		parse:   parseNoTLSRedirect},
	{Name: "opentelemetry-config", Default: "/etc/ingress-controller/telemetry/opentelemetry.toml", Meaning: "The OpenTelemetry module's configuration file.", Differs: noOpenTelemetry},
	{Name: "opentelemetry-operation-name", Status: annotations.Partly, Default: "",
		Meaning: "The name of nginx's spans, e.g. `HTTP $request_method $service_name $uri`; the annotation of the same name overrides it per Ingress. Unset, a span is named after the nginx location that served the request, as ingress-nginx's module names it (`/api/`, `/api` for the request `/api` of a `Prefix` `/api`, `^<path>` on a regex host; e2e `TestTracingSpanLocationNames`). docs/tracing.md.",
		Differs: "Literal text and a fixed set of variables, filled in by Lua when the span ends: " + annotations.SpanNameGrammar + "; another variable is refused (the last good value stays). e2e `TestTracingSpanNames`.",
		parse: func(v string, b *globalBuild) string {
			n, want := annotations.ParseSpanName(v)
			if want == "" {
				b.g.Tracing.OperationName = n
			}
			return want
		}},
	{Name: "opentelemetry-trust-incoming-span", Status: annotations.Full, Default: "true",
		Meaning: "With `enable-opentelemetry`, continue a valid incoming `traceparent` (same trace id and flags, a new parent id); `false`: every request starts a new trace and an incoming `tracestate` is dropped. The annotation of the same name overrides it per Ingress.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Tracing.TrustIncoming })},
	{Name: "opentracing-location-operation-name", Gone: true, Default: "", Meaning: "OpenTracing (removed).", Differs: goneOpenTracing},
	{Name: "opentracing-operation-name", Gone: true, Default: "", Meaning: "OpenTracing (removed).", Differs: goneOpenTracing},
	{Name: "opentracing-trust-incoming-span", Gone: true, Default: "", Meaning: "OpenTracing (removed).", Differs: goneOpenTracing},
	{Name: "otel-max-export-batch-size", Status: annotations.Full, Default: "512", Meaning: "Spans exported per request to the collector (1–10000).",
		parse: intOption(1, 10000, "a number of spans from 1 to 10000", func(b *globalBuild) *int { return &b.export.Batch })},
	{Name: "otel-max-queuesize", Status: annotations.Full, Default: "2048", Meaning: "Spans waiting for export, per nginx worker (1–100000); more are dropped.",
		parse: intOption(1, 100000, "a number of spans from 1 to 100000", func(b *globalBuild) *int { return &b.export.Queue })},
	{Name: "otel-sampler", Status: annotations.Full, Default: "AlwaysOn", Meaning: "Which new traces are sampled (the `traceparent` flag; only sampled spans are exported): `AlwaysOn`, `AlwaysOff`, `TraceIdRatioBased` (`otel-sampler-ratio`).",
		parse: func(v string, b *globalBuild) string {
			switch v {
			case "AlwaysOn", "AlwaysOff", "TraceIdRatioBased":
				b.g.Tracing.Sampler = v
				return ""
			}
			return "AlwaysOn, AlwaysOff or TraceIdRatioBased"
		}},
	{Name: "otel-sampler-parent-based", Status: annotations.Full, Default: "true", Meaning: "A trusted incoming trace keeps its sampled flag; `false`: the sampler decides for it too.",
		parse: boolOption(func(b *globalBuild) *bool { return &b.g.Tracing.ParentBased })},
	{Name: "otel-sampler-ratio", Status: annotations.Full, Default: "0.01", Meaning: "Share of new traces `TraceIdRatioBased` samples, 0 to 1.",
		parse: func(v string, b *globalBuild) string {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r < 0 || r > 1 || len(v) > 16 {
				return "a number from 0 to 1"
			}
			b.g.Tracing.Ratio = r
			return ""
		}},
	{Name: "otel-schedule-delay-millis", Status: annotations.Full, Default: "5000", Meaning: "Milliseconds between span exports (100–60000).",
		parse: intOption(100, 60000, "a number of milliseconds from 100 to 60000", func(b *globalBuild) *int { return &b.export.DelayMillis })},
	{Name: "otel-service-name", Status: annotations.Full, Default: "nginx", Meaning: "The `service.name` of nginx's spans: letters, digits, `-._/`, at most 128.",
		parse: func(v string, b *globalBuild) string {
			if len(v) == 0 || len(v) > 128 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/") != "" {
				return "letters, digits and -._/, at most 128 characters"
			}
			b.export.Service = v
			return ""
		}},
	{Name: "otlp-collector-host", Status: annotations.Partly, Default: "", Meaning: "With `enable-opentelemetry` (ConfigMap or annotation), nginx's spans go to this collector (an IPv4 address or a DNS name, resolved with `--resolver`) as OTLP/HTTP JSON (`POST /v1/traces`), from a timer in each worker; unset: no spans are exported.",
		Differs: "OTLP/HTTP with JSON, not OTLP/gRPC as ingress-nginx's module: point `otlp-collector-port` at the collector's OTLP/HTTP port (4318, Portico's default).",
		parse: func(v string, b *globalBuild) string {
			if a, err := netip.ParseAddr(v); err == nil && a.Is4() {
				b.export.Host = v
				return ""
			}
			if _, err := parseHost(v); err != nil || strings.HasPrefix(v, "*.") {
				return "an IPv4 address or a DNS name"
			}
			b.export.Host = v
			return ""
		}},
	{Name: "otlp-collector-port", Status: annotations.Partly, Default: "4318", Meaning: "The collector's OTLP/HTTP port.",
		Differs: "ingress-nginx's default is 4317, the OTLP/gRPC port; Portico speaks OTLP/HTTP.",
		parse:   intOption(1, 65535, "a port from 1 to 65535", func(b *globalBuild) *int { return &b.export.Port })},
	{Name: "proxy-add-original-uri-header", Status: annotations.Full, Default: "false",
		Meaning: "Send backends `X-Original-URI`, the request URI as the client sent it (auth services and error backends always get it).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Headers.OriginalURI })},
	{Name: "proxy-body-size", Status: annotations.Full, Default: "1m",
		Meaning: "Largest request body (`client_max_body_size`; `0`: no limit); larger gets 413. The `proxy-body-size` annotation overrides it.",
		parse:   validOption(sizeValue.MatchString, "a size such as 1m, 512k or 0 (no limit)", func(b *globalBuild) *string { return &b.g.ProxyBodySize })},
	{Name: "proxy-buffer-size", Status: annotations.Full, Default: "(nginx's, a memory page: 4k on x86-64)",
		Meaning: "Buffer for the first part of an answer, and the size of each of `proxy-buffers-number`; the `proxy-buffer-size` annotation overrides it.",
		parse:   annotationDefault("proxy-buffer-size", func(s *annotations.Set, d *Defaults) { d.Proxy.BufferSize = s.Proxy.BufferSize })},
	{Name: "proxy-buffering", Status: annotations.Partly, Default: "on",
		Meaning: "Buffer answers from backends (`on` or `off`); the `proxy-buffering` annotation overrides it.",
		Differs: "Unset, Portico buffers answers (`proxy_buffering on`, nginx's default); ingress-nginx's default is `off`.",
		parse:   annotationDefault("proxy-buffering", func(s *annotations.Set, d *Defaults) { d.Proxy.Buffering = s.Proxy.Buffering })},
	{Name: "proxy-buffers-number", Status: annotations.Partly, Default: "(nginx's, 8)",
		Meaning: "Number of answer buffers (`proxy_buffers`, 2 to 64), each of `proxy-buffer-size` (4k when unset); the `proxy-buffers-number` annotation overrides it.",
		Differs: "Unset, nginx's default (8 buffers of a memory page) applies; ingress-nginx's is 4 of 4k.",
		parse:   annotationDefault("proxy-buffers-number", func(s *annotations.Set, d *Defaults) { d.Proxy.BuffersNumber = s.Proxy.BuffersNumber })},
	{Name: "proxy-busy-buffers-size", Default: "", Meaning: "Buffers busy sending to the client.",
		Differs: "nginx's default applies, or the size of `proxy-buffer-size` when an Ingress sets it."},
	{Name: "proxy-connect-timeout", Status: annotations.Full, Default: "5", Meaning: "Seconds to connect to a backend; the annotation overrides it.",
		parse: secondsOption(1, 3600, func(b *globalBuild) *int { return &b.g.ProxyConnectTimeout })},
	{Name: "proxy-cookie-domain", Status: annotations.Full, Default: "off",
		Meaning: "Rewrite the Domain of the backends' cookies: `off` or `<from> <to>`; the `proxy-cookie-domain` annotation overrides it.",
		parse:   annotationDefault("proxy-cookie-domain", func(s *annotations.Set, d *Defaults) { d.Proxy.CookieDomain = noneIfOff(s.Proxy.CookieDomain) })},
	{Name: "proxy-cookie-path", Status: annotations.Full, Default: "off",
		Meaning: "Rewrite the Path of the backends' cookies: `off` or `<from> <to>`; the `proxy-cookie-path` annotation overrides it.",
		parse:   annotationDefault("proxy-cookie-path", func(s *annotations.Set, d *Defaults) { d.Proxy.CookiePath = noneIfOff(s.Proxy.CookiePath) })},
	{Name: "proxy-headers-hash-bucket-size", Status: annotations.Full, Default: "64", Meaning: "Bucket size of the proxy headers hash (`proxy_headers_hash_bucket_size`).",
		parse: hashOption(1, maxHashBucket, func(b *globalBuild) *int { return &b.g.Hashes.ProxyHeadersBucketSize })},
	{Name: "proxy-headers-hash-max-size", Status: annotations.Full, Default: "512", Meaning: "Size of the proxy headers hash (`proxy_headers_hash_max_size`).",
		parse: hashOption(1, maxHashSize, func(b *globalBuild) *int { return &b.g.Hashes.ProxyHeadersMaxSize })},
	{Name: "proxy-http-version", Status: annotations.Full, Default: "1.1",
		Meaning: "HTTP version to backends: `1.0` or `1.1`; the `proxy-http-version` annotation overrides it. (ingress-nginx reads the key, though its docs table leaves it out.)",
		parse:   annotationDefault("proxy-http-version", func(s *annotations.Set, d *Defaults) { d.Proxy.HTTPVersion = s.Proxy.HTTPVersion })},
	{Name: "proxy-next-upstream", Status: annotations.Full, Default: "error timeout",
		Meaning: "When a request goes to the next endpoint (`proxy_next_upstream` conditions); the `proxy-next-upstream` annotation overrides it.",
		parse:   annotationDefault("proxy-next-upstream", func(s *annotations.Set, d *Defaults) { d.Proxy.NextUpstream = s.Proxy.NextUpstream })},
	{Name: "proxy-next-upstream-timeout", Status: annotations.Full, Default: "0",
		Meaning: "Seconds retries may take (0: no limit); the `proxy-next-upstream-timeout` annotation overrides it.",
		parse: annotationDefault("proxy-next-upstream-timeout", func(s *annotations.Set, d *Defaults) {
			d.Proxy.NextUpstreamTimeout = noneIfZero(s.Proxy.NextUpstreamTimeout)
		})},
	{Name: "proxy-next-upstream-tries", Status: annotations.Full, Default: "3",
		Meaning: "Tries per request (0: no limit); the `proxy-next-upstream-tries` annotation overrides it.",
		parse:   annotationDefault("proxy-next-upstream-tries", func(s *annotations.Set, d *Defaults) { d.Proxy.NextUpstreamTries = s.Proxy.NextUpstreamTries })},
	{Name: "proxy-protocol-header-timeout", Default: "5s", Meaning: "Timeout of ingress-nginx's TLS passthrough listener for the PROXY header.",
		Differs: "Portico's TLS passthrough front is nginx (`ssl_preread`); with `use-proxy-protocol` it reads the PROXY header within nginx's stream default (30 s), and the HTTP and HTTPS ports within `client-header-timeout`."},
	{Name: "proxy-read-timeout", Status: annotations.Full, Default: "60", Meaning: "Seconds between two reads from a backend; the annotation overrides it.",
		parse: secondsOption(1, 86400, func(b *globalBuild) *int { return &b.g.ProxyReadTimeout })},
	{Name: "proxy-real-ip-cidr", Status: annotations.Full, Default: "0.0.0.0/0",
		Meaning: "Comma-separated networks whose `X-Forwarded-For` (`use-forwarded-headers`, `enable-real-ip`) or PROXY protocol header (`use-proxy-protocol`) is trusted.",
		parse: func(v string, b *globalBuild) string {
			const want = "a comma-separated list of CIDRs or IP addresses"
			var out []string
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				if p, err := netip.ParsePrefix(f); err == nil {
					out = append(out, p.Masked().String())
				} else if a, err := netip.ParseAddr(f); err == nil && a.Zone() == "" {
					out = append(out, netip.PrefixFrom(a, a.BitLen()).String())
				} else {
					return want
				}
			}
			b.realIPFrom = out
			return ""
		}},
	{Name: "proxy-redirect-from", Status: annotations.Full, Default: "off",
		Meaning: "With `proxy-redirect-to`, rewrite this prefix of the Location and Refresh headers of answers (`proxy_redirect`; `off`: none); the annotations override them.",
		parse:   redirectPart(func(b *globalBuild) *string { return &b.redirectFrom })},
	{Name: "proxy-redirect-to", Status: annotations.Full, Default: "off",
		Meaning: "What `proxy-redirect-from` becomes. (ingress-nginx reads the key, though its docs table leaves it out.)",
		parse:   redirectPart(func(b *globalBuild) *string { return &b.redirectTo })},
	{Name: "proxy-request-buffering", Status: annotations.Full, Default: "on",
		Meaning: "Read the whole request body before proxying (`on` or `off`); the `proxy-request-buffering` annotation overrides it.",
		parse:   annotationDefault("proxy-request-buffering", func(s *annotations.Set, d *Defaults) { d.Proxy.RequestBuffering = noneIfOn(s.Proxy.RequestBuffering) })},
	{Name: "proxy-send-timeout", Status: annotations.Full, Default: "60", Meaning: "Seconds between two writes to a backend; the annotation overrides it.",
		parse: secondsOption(1, 86400, func(b *globalBuild) *int { return &b.g.ProxySendTimeout })},
	{Name: "proxy-set-headers", Status: annotations.Partly, Default: "",
		Meaning: "A ConfigMap (`namespace/name`, watched) whose keys are headers sent to every backend, with values as `add-headers`'; an empty value sends none.",
		Differs: "A header Portico sends itself (`X-Forwarded-For`, `X-Request-ID`...) is replaced, not sent twice; `Host` and the hop-by-hop headers are refused.",
		parse:   headerMapOption("proxy-set-headers", true, func(b *globalBuild) *[]Header { return &b.g.Headers.Request })},
	{Name: "proxy-ssl-location-only", Default: "false", Meaning: "Put the `proxy-ssl-*` directives in locations only.",
		Differs: "Portico always puts them in the locations, as with `true`."},
	{Name: "proxy-stream-next-upstream", Default: "true", Meaning: "TCP/UDP services.", Differs: noStreamRetry},
	{Name: "proxy-stream-next-upstream-timeout", Default: "600s", Meaning: "TCP/UDP services.", Differs: noStreamRetry},
	{Name: "proxy-stream-next-upstream-tries", Default: "3", Meaning: "TCP/UDP services.", Differs: noStreamRetry},
	{Name: "proxy-stream-responses", Status: annotations.Full, Default: "1",
		Meaning: "Datagrams a UDP service's backend answers each query with (`proxy_responses`), from 1 to 1000000: the session ends with the last one, or after `proxy-stream-timeout`.",
		parse:   intOption(1, 1000000, "a number of datagrams from 1 to 1000000", func(b *globalBuild) *int { return &b.g.Stream.Responses })},
	{Name: "proxy-stream-timeout", Status: annotations.Full, Default: "600s",
		Meaning: "How long a TCP or UDP service's session may pass nothing before it is closed (`proxy_timeout`), an nginx time from 1s to 7d. The TLS passthrough front keeps 1 day.",
		parse:   timeOption(time.Second, 7*24*time.Hour, func(b *globalBuild) *string { return &b.g.Stream.Timeout })},
	{Name: "relative-redirects", Status: annotations.Full, Default: "false",
		Meaning: "`true`: nginx's redirects to a path stay relative in every location (`absolute_redirect off`), as the `relative-redirects` annotation does for one Ingress.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.RelativeRedirects })},
	{Name: "retry-non-idempotent", Status: annotations.Full, Default: "false",
		Meaning: "`true`: POST, LOCK and PATCH requests go to the next endpoint too on the conditions of `proxy-next-upstream` (`non_idempotent`), in every location.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.RetryNonIdempotent })},
	{Name: "reuse-port", Status: annotations.Full, Default: "true", Meaning: "One listening socket per worker for the traffic ports (`reuseport`): the kernel spreads connections.",
		parse: boolOption(func(b *globalBuild) *bool { return &b.g.Listen.ReusePort })},
	{Name: "server-name-hash-bucket-size", Status: annotations.Full, Default: "0",
		Meaning: "Bucket size of the server names hash (`server_names_hash_bucket_size`); raised to fit the longest name of a `server` block, as in ingress-nginx (0: just that).",
		parse:   hashOption(0, maxHashBucket, func(b *globalBuild) *int { return &b.g.Hashes.ServerNamesBucketSize })},
	{Name: "server-name-hash-max-size", Status: annotations.Full, Default: "1024",
		Meaning: "Size of the server names hash (`server_names_hash_max_size`); raised to fit the names of the `server` blocks, as in ingress-nginx.",
		parse:   hashOption(1, maxHashSize, func(b *globalBuild) *int { return &b.g.Hashes.ServerNamesMaxSize })},
	{Name: "server-snippet", Status: annotations.Full, Default: "",
		Meaning: "The operator's nginx configuration in every `server` block (the catch-all server's too, which serves the hosts the Lua router routes); not gated by `allow-snippet-annotations` (as in ingress-nginx). nginx -t checks it first: one nginx refuses is held at its last good value (Warning Event `ConfigNotApplied` on the ConfigMap) while the rest applies.",
		parse:   snippetOption(func(b *globalBuild) *string { return &b.g.Snippets.Server })},
	{Name: "server-tokens", Status: annotations.Partly, Default: "false", Meaning: "`true`: the nginx version in the `Server` header and error pages.",
		Differs: "With `false` answers still carry `Server: nginx` (without the version); ingress-nginx removes the header.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.ServerTokens })},
	{Name: "service-upstream", Status: annotations.Full, Default: "false",
		Meaning: "Proxy to Services' cluster IPs instead of their Pods; the `service-upstream` annotation overrides it.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Defaults.ServiceUpstream })},
	{Name: "skip-access-log-urls", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated request URIs (path and query) left out of the access log: exact, or a regular expression after `~` (`~*`: without case).",
		parse: parsedOption(parseSkipURLs, "comma-separated URIs such as /healthz, or regular expressions such as ~*^/health (no quotes or spaces)",
			func(b *globalBuild) *[]string { return &b.logging.l.SkipURLs })},
	{Name: "ssl-buffer-size", Status: annotations.Full, Default: "4k", Meaning: "Buffer for sending TLS data (`ssl_buffer_size`, 1 to 1m): small ones make the first byte come sooner.",
		parse: sizeOption(1, 1<<20, func(b *globalBuild) *string { return &b.g.TLS.BufferSize })},
	{Name: "ssl-ciphers", Status: annotations.Full, Default: defaultSSLCiphers,
		Meaning: "OpenSSL cipher list of the HTTPS port (TLS 1.2 and older); the DHE ciphers need `ssl-dh-param`.",
		parse: func(v string, b *globalBuild) string {
			if len(v) > 1024 || !cipherList.MatchString(v) {
				return "an OpenSSL cipher list such as ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
			}
			b.g.SSLCiphers = v
			return ""
		}},
	{Name: "ssl-dh-param", Status: annotations.Full, Default: "",
		Meaning: "A Secret `namespace/name` whose `dhparam.pem` holds DH parameters (2048 to 8192 bits) for the DHE ciphers (`ssl_dhparam`). A Secret that is missing or holds none is a Warning, and the last good value is kept while its Secret still holds good parameters.",
		parse:   parseDHParam},
	{Name: "ssl-early-data", Default: "false", Meaning: "TLS 1.3 early data (0-RTT).", Differs: fixed("`false`")},
	{Name: "ssl-ecdh-curve", Status: annotations.Full, Default: "auto",
		Meaning: "Groups for ECDHE (`ssl_ecdh_curve`): `auto`, or OpenSSL group names separated by colons, each once (`X25519:prime256v1:secp384r1`).",
		parse:   parseECDHCurve},
	{Name: "ssl-protocols", Status: annotations.Full, Default: "TLSv1.2 TLSv1.3",
		Meaning: "Space-separated TLS versions of the HTTPS port: `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`.",
		parse: func(v string, b *globalBuild) string {
			ps := strings.Fields(v)
			for _, p := range ps {
				if !sslProtocols[p] {
					return "a space-separated list of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"
				}
			}
			if len(ps) == 0 {
				return "at least one protocol"
			}
			b.g.SSLProtocols = ps
			return ""
		}},
	{Name: "ssl-redirect", Status: annotations.Partly, Default: "true",
		Meaning: "Plain HTTP requests to hosts with TLS are redirected to HTTPS (`http-redirect-code`, 308), but for paths under `no-tls-redirect-locations`; the `ssl-redirect` annotation overrides it.",
		Differs: "The redirect keeps the request URI as sent; ingress-nginx drops a trailing slash from it.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.SSLRedirect })},
	{Name: "ssl-reject-handshake", Status: annotations.Partly, Default: "false",
		Meaning: "`true`: TLS handshakes without SNI, or for a name no Ingress host (alias, `www.` twin) has, fail instead of getting the default certificate.",
		Differs: "The handshake ends with an `internal_error` alert from the certificate store, where nginx's `ssl_reject_handshake` sends `unrecognized_name`.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.TLS.RejectHandshake })},
	{Name: "ssl-session-cache", Status: annotations.Full, Default: "true",
		Meaning: "A TLS session cache shared by the workers (`ssl_session_cache`); `false`: none, and `ssl-session-cache-size` and `ssl-session-timeout` are not set.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.TLS.SessionCache })},
	{Name: "ssl-session-cache-size", Status: annotations.Full, Default: "10m", Meaning: "Its size, an nginx size from 32k to 1024m (1m holds about 4,000 sessions).",
		parse: sizeOption(32<<10, 1<<30, func(b *globalBuild) *string { return &b.g.TLS.SessionCacheSize })},
	{Name: "ssl-session-ticket-key", Status: annotations.Full, Default: "",
		Meaning: "The key of TLS session tickets, the base64 of 48 or 80 bytes (`openssl rand 80 | openssl enc -A -base64`), so that replicas, reloads and restarts resume each other's sessions; unset, nginx makes one each time it loads a configuration.",
		parse:   parseSessionTicketKey},
	{Name: "ssl-session-tickets", Status: annotations.Full, Default: "false", Meaning: "TLS session resumption with tickets (`ssl_session_tickets`).",
		parse: boolOption(func(b *globalBuild) *bool { return &b.g.TLS.SessionTickets })},
	{Name: "ssl-session-timeout", Status: annotations.Full, Default: "10m", Meaning: "How long a TLS session may be resumed (`ssl_session_timeout`), an nginx time from 1s to 7d.",
		parse: timeOption(minSessionTimeout, maxSessionTimeout, func(b *globalBuild) *string { return &b.g.TLS.SessionTimeout })},
	{Name: "stream-access-log-path", Default: "", Meaning: "Access log of TCP/UDP services.",
		Differs: "TCP/UDP sessions are logged to standard output, and not at all with `disable-access-log`."},
	{Name: "stream-snippet", Status: annotations.Partly, Default: "",
		Differs: "Portico's `stream` block has no Lua (Debian has no stream Lua module) and no `upstream_balancer`: a snippet names its peers itself.",
		Meaning: "The operator's nginx configuration in the `stream` block, after the Ingresses' `stream-snippet` annotations; not gated by `allow-snippet-annotations` (as in ingress-nginx); its presence alone loads the stream module. nginx -t checks it first: one nginx refuses is held at its last good value (Warning Event `ConfigNotApplied` on the ConfigMap) while the rest applies. docs/layer4.md; e2e `TestAnnotationsStreamSnippet`.",
		parse:   snippetOption(func(b *globalBuild) *string { return &b.g.Snippets.Stream })},
	{Name: "strict-validate-path-type", Status: annotations.Partly, Default: "true",
		Meaning: "Check `Exact` and `Prefix` paths strictly (`true` or `false`).",
		Differs: "Portico checks every path against its own grammar either way: absolute; letters, digits and `-._~/!&()*+,=:@`; no empty, `.` or `..` segments (`use-regex` paths have theirs); so `false` lets no more paths through.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.Policy.StrictPathType })},
	{Name: "syslog-host", Status: annotations.Full, Default: "",
		Meaning: "Syslog server of `enable-syslog`: an IP address or a DNS name, which nginx resolves when it loads its configuration.",
		parse:   validOption(syslogHostValue, "an IP address or a DNS name", func(b *globalBuild) *string { return &b.logging.syslogHost })},
	{Name: "syslog-port", Status: annotations.Full, Default: "514", Meaning: "UDP port of the syslog server.",
		parse: intOption(1, 65535, "a port from 1 to 65535", func(b *globalBuild) *int { return &b.logging.syslogPort })},
	{Name: "upstream-keepalive-connections", Status: annotations.Full, Default: "320", Meaning: "Idle backend connections kept per worker (`0`: none).",
		parse: intOption(0, 100000, "a number of connections, 0 to disable", func(b *globalBuild) *int { return &b.g.UpstreamKeepaliveConnections })},
	{Name: "upstream-keepalive-requests", Status: annotations.Full, Default: "10000", Meaning: "Requests per backend connection.",
		parse: intOption(1, 1000000, "a number of requests from 1 to 1000000", func(b *globalBuild) *int { return &b.g.UpstreamKeepaliveRequests })},
	{Name: "upstream-keepalive-time", Status: annotations.Full, Default: "1h", Meaning: "Longest life of a backend connection (`keepalive_time`), an nginx time from 1s to 7d.",
		parse: timeOption(time.Second, 7*24*time.Hour, func(b *globalBuild) *string { return &b.g.UpstreamKeepaliveTime })},
	{Name: "upstream-keepalive-timeout", Status: annotations.Full, Default: "60", Meaning: "Seconds an idle backend connection is kept.",
		parse: secondsOption(1, 3600, func(b *globalBuild) *int { return &b.g.UpstreamKeepaliveTimeout })},
	{Name: "use-forwarded-headers", Status: annotations.Full, Default: "false",
		Meaning: "Trust `X-Forwarded-Proto`, `-Host`, `-Port` and `-For` from the client (a proxy in front).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.UseForwardedHeaders })},
	{Name: "use-geoip", Default: "true", Meaning: "The legacy GeoIP module.",
		Differs: "ingress-nginx v1.15 documents it but no longer reads it."},
	{Name: "use-geoip2", Status: annotations.Full, Default: "false",
		Meaning: "Look client addresses up in the GeoIP2 databases the operator mounts (`--geoip2-dir`, default `/etc/ingress-controller/geoip`, one `<edition>.mmdb` per `--maxmind-edition-ids`; nothing is downloaded) and set ingress-nginx's `$geoip2_*` variables for log formats and snippets. A replaced database is checked by `nginx -t` and applied with one reload; one nginx refuses keeps the last good one (Warning log, `/status`). docs/geoip2.md.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.UseGeoIP2 })},
	{Name: "use-gzip", Status: annotations.Full, Default: "false",
		Meaning: "Compress answers with gzip for clients that accept it (`gzip_proxied any`, `gzip_vary on`, HTTP/1.1 and later).",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.compression.useGzip })},
	{Name: "use-http2", Status: annotations.Full, Default: "true", Meaning: "HTTP/2 on the HTTPS port (ALPN `h2`); `false`: HTTP/1.1 only.",
		parse: boolOption(func(b *globalBuild) *bool { return &b.g.Client.HTTP2 })},
	{Name: "use-proxy-protocol", Status: annotations.Full, Default: "false",
		Meaning: "The traffic ports expect the PROXY protocol (AWS NLB); the client address comes from it.",
		parse:   boolOption(func(b *globalBuild) *bool { return &b.g.UseProxyProtocol })},
	{Name: "variables-hash-bucket-size", Status: annotations.Full, Default: "256", Meaning: "Bucket size of the variables hash (`variables_hash_bucket_size`).",
		parse: hashOption(1, maxHashBucket, func(b *globalBuild) *int { return &b.g.Hashes.VariablesBucketSize })},
	{Name: "variables-hash-max-size", Status: annotations.Full, Default: "2048", Meaning: "Size of the variables hash (`variables_hash_max_size`).",
		parse: hashOption(1, maxHashSize, func(b *globalBuild) *int { return &b.g.Hashes.VariablesMaxSize })},
	{Name: "vts-default-filter-key", Gone: true, Default: "", Meaning: "The VTS status module (removed).", Differs: goneVTS},
	{Name: "vts-status-zone-size", Gone: true, Default: "", Meaning: "The VTS status module (removed).", Differs: goneVTS},
	{Name: "vts-sum-key", Gone: true, Default: "", Meaning: "The VTS status module (removed).", Differs: goneVTS},
	{Name: "whitelist-source-range", Status: annotations.Full, Default: "",
		Meaning: "Comma-separated addresses and networks allowed on the locations of every Ingress without the `allowlist-source-range` (or `whitelist-source-range`) annotation; others get 403.",
		parse:   sourceRangeDefault(func(d *Defaults) *[]netip.Prefix { return &d.SourceRange.Allow })},
	{Name: "worker-cpu-affinity", Status: annotations.Full, Default: "",
		Meaning: "Binds workers to CPUs (`worker_cpu_affinity`): `auto`, or one mask of 0s and 1s per worker (`0001 0010 0100 1000`); empty binds none.",
		parse:   parseCPUAffinity},
	{Name: "worker-processes", Status: annotations.Full, Default: "auto", Meaning: "`auto` (one per CPU) or 1–1024.",
		parse: func(v string, b *globalBuild) string {
			if v != "auto" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 1024 || strconv.Itoa(n) != v {
					return "auto or a number from 1 to 1024"
				}
			}
			b.g.WorkerProcesses = v
			return ""
		}},
	{Name: "worker-shutdown-timeout", Status: annotations.Full, Default: "240s",
		Meaning: "How long old workers may finish requests after a reload, and nginx at shutdown (`worker_shutdown_timeout`), an nginx time from 1s to 24h.",
		parse:   timeOption(time.Second, 24*time.Hour, func(b *globalBuild) *string { return &b.g.Workers.ShutdownTimeout })},
	{Name: "zipkin-collector-host", Gone: true, Default: "", Meaning: "Zipkin tracing (removed).", Differs: goneZipkin},
	{Name: "zipkin-collector-port", Gone: true, Default: "", Meaning: "Zipkin tracing (removed).", Differs: goneZipkin},
	{Name: "zipkin-sample-rate", Gone: true, Default: "", Meaning: "Zipkin tracing (removed).", Differs: goneZipkin},
	{Name: "zipkin-service-name", Gone: true, Default: "", Meaning: "Zipkin tracing (removed).", Differs: goneZipkin},
}

// keysByName indexes configKeys.
var keysByName = func() map[string]*ConfigKey {
	m := make(map[string]*ConfigKey, len(configKeys))
	for i := range configKeys {
		k := &configKeys[i]
		if m[k.Name] != nil {
			panic(fmt.Sprintf("model: ConfigMap key %s is listed twice", k.Name))
		}
		m[k.Name] = k
	}
	return m
}()

// ConfigKeys returns every ConfigMap key Portico knows, sorted by name.
func ConfigKeys() []ConfigKey { return append([]ConfigKey(nil), configKeys...) }

// LookupConfigKey returns the entry of ConfigMap key name.
func LookupConfigKey(name string) (ConfigKey, bool) {
	k, ok := keysByName[name]
	if !ok {
		return ConfigKey{}, false
	}
	return *k, true
}
