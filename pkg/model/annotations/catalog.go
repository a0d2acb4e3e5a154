package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

// The parsers of the catalog's entries: an entry names its annotation's
// parser, or the group parser its annotation belongs to. Each is a
// function of the annotation's own file, storing into its Set field.
var (
	useRegexParser      = into(parseUseRegex, func(s *Set) *bool { return &s.UseRegex })
	rewriteTargetParser = &parser{run: func(a Annotations, s *Set) (ds []diag.Diagnostic) {
		s.RewriteTarget, ds = parseRewriteTarget(a, s.UseRegex)
		return ds
	}}
	appRootParser          = into(parseAppRoot, func(s *Set) *URIPath { return &s.AppRoot })
	xForwardedPrefixParser = into(parseXForwardedPrefix, func(s *Set) *URIPath { return &s.XForwardedPrefix })
	redirectParser         = into(parseRedirect, func(s *Set) **Redirect { return &s.Redirect })
	fromToWWWParser        = into(parseFromToWWW, func(s *Set) *bool { return &s.FromToWWW })
	serverAliasParser      = into(parseServerAlias, func(s *Set) *[]string { return &s.ServerAliases })
	sslRedirectParser      = into(parseSSLRedirect, func(s *Set) **bool { return &s.SSLRedirect })
	forceSSLRedirectParser = into(parseForceSSLRedirect, func(s *Set) *bool { return &s.ForceSSLRedirect })
	loadBalanceParser      = into(parseLoadBalance, func(s *Set) *LoadBalance { return &s.LoadBalance })
	trafficParser          = into(parseTraffic, func(s *Set) *Traffic { return &s.Traffic })
	// service-upstream reads the traffic policy: its entry comes after
	// the traffic entries.
	serviceUpstreamParser = &parser{run: func(a Annotations, s *Set) (ds []diag.Diagnostic) {
		s.ServiceUpstream, ds = parseServiceUpstream(a)
		if s.ServiceUpstream && (s.Traffic.Affinity.Cookie != "" || s.Traffic.HashBy != "") {
			ds = append(ds, diag.Warnf(field(nameServiceUpstream), "IneffectiveAnnotation",
				"with service-upstream every request goes to the Service's one cluster IP: affinity and upstream-hash-by have no effect"))
		}
		return ds
	}}
	proxyParser                = into(parseProxy, func(s *Set) *Proxy { return &s.Proxy })
	corsParser                 = into(parseCORS, func(s *Set) **CORS { return &s.CORS })
	basicAuthParser            = into(parseBasicAuth, func(s *Set) **BasicAuth { return &s.BasicAuth })
	clientTLSParser            = into(parseClientTLS, func(s *Set) **ClientTLS { return &s.ClientTLS })
	externalAuthParser         = into(parseExternalAuth, func(s *Set) **ExternalAuth { return &s.ExternalAuth })
	customHTTPErrorsParser     = into(parseCustomHTTPErrors, func(s *Set) *[]int { return &s.CustomHTTPErrors })
	defaultBackendParser       = into(parseDefaultBackend, func(s *Set) *string { return &s.DefaultBackend })
	configurationSnippetParser = into(func(a Annotations) (Snippet, []diag.Diagnostic) { return parseSnippet(a, nameConfigurationSnippet) },
		func(s *Set) *Snippet { return &s.ConfigurationSnippet })
	serverSnippetParser = into(func(a Annotations) (Snippet, []diag.Diagnostic) { return parseSnippet(a, nameServerSnippet) },
		func(s *Set) *Snippet { return &s.ServerSnippet })
)

// Texts several entries share.
const (
	asAbove         = "As above."
	noModSecurity   = "Portico's nginx has no ModSecurity module."
	noOpenTelemetry = "Portico's nginx has no OpenTelemetry module; backends get an `X-Request-ID` (ConfigMap `generate-request-id`)."
	noAuthKeepalive = "Each auth subrequest opens its own connection to the auth service; there is no keep-alive pool for it."
	noMirror        = "Portico does not mirror requests."
	noFastCGI       = "`backend-protocol: FCGI` is refused: Portico proxies HTTP, HTTPS and gRPC only."
	noHashSubset    = "`upstream-hash-by` maps each key to one endpoint: there are no subsets."
	sessionCookie   = "Used with `affinity: cookie`."
	snippetChecks   = "Refused when it holds a NUL byte, unbalanced braces or quotes, does not end in `;` or `}`, or exceeds 64 KiB."
)

// catalog holds one entry for every annotation name of ingress-nginx
// v1.15.1 (the names its parsers register, with their aliases). Names it
// has removed are not listed: Portico reports them as unknown.
//
// Parse runs the parsers in catalog order, so a parser may read what an
// earlier one set (rewrite-target reads use-regex, service-upstream the
// traffic policy). docs/annotations.md shows the entries of each Section
// in this order (go run ./hack/gendocs).
var catalog = []Entry{
	// Paths and redirects.
	{Name: nameUseRegex, Section: SectionPaths, Status: Partly, Risk: RiskMedium, parser: useRegexParser,
		Differs: "Only this Ingress's paths become regular expressions; ingress-nginx switches every path of the host to regex when one Ingress sets `use-regex` or `rewrite-target`.",
		Notes:   "Paths of this Ingress become case-insensitive regular expressions (`location ~* \"^<path>\"`, `$` appended for `Exact`); other Ingresses on the host keep their `Exact`/`Prefix` semantics. Order: exact and prefix locations first (nginx prefers `=` and then tries regexes before falling back to the longest prefix), regex locations sorted by path length, longest first, as ingress-nginx documents. Grammar, checked before nginx sees the path: it must compile as a Go regexp (sanity check; PCRE and RE2 share this subset) and may use only letters, digits and `-._~/!&()*+,=:@^|?[]{}\\$`; `\\` only before one of `dDwWsSbB.*+?()[]{}|^$/-` (nginx itself unescapes `\\\"`, `\\\\`, `\\n`, `\\r`, `\\t` in quoted strings, so those are refused); `$` only as an end anchor (last, or before `)` or `|`), never the start of a variable; `{`/`}` only as quantifiers `{n}`, `{n,}`, `{n,m}`. No quote, whitespace, `;` or `#`. A host whose paths need nothing else is served by the Lua router (no `server` block, no reload), which tries the regexes in the same order with the same PCRE engine."},
	{Name: nameRewriteTarget, Section: SectionPaths, Status: Partly, Risk: RiskMedium, parser: rewriteTargetParser,
		Differs: "Alone it does not turn the host's paths into regular expressions: without `use-regex` the whole URI is replaced by the target, and capture references `$1`…`$9` need `use-regex: \"true\"`.",
		Notes:   "The backend gets the target instead of the request path; the query string is kept. Capture references must not exceed the capture groups of each path (else the path is refused). Characters: letters, digits, `-._~/!&()*+,=:@`. Routed in Lua like a plain path (no `server` block, no reload; README \"Dynamic routing\"): the router replaces the URI as `rewrite ... break` would."},
	{Name: nameAppRoot, Section: SectionPaths, Status: Full, Risk: RiskMedium, parser: appRootParser,
		Notes: "`GET /` on the host answers 302 to `$scheme://$host<app-root>`. The oldest Ingress of the host that sets it wins."},
	{Name: nameXFwdPrefix, Section: SectionPaths, Status: Full, Risk: RiskMedium, parser: xForwardedPrefixParser,
		Notes: "Sent as `X-Forwarded-Prefix`; a path grammar (letters, digits, `-._~/!&()*+,=:@`). On a Lua-routed host the router sets the header (no `server` block needed)."},
	{Name: namePermanentRedirect, Section: SectionPaths, Status: Full, Risk: RiskMedium, parser: redirectParser,
		Notes: "Absolute http(s) URL; host, optional port, path and a query of `A-Za-z0-9-._~=&`. No user info, fragment, `%`-escapes or `$`. Default code 301. The Lua router answers it for hosts without a `server` block (after an ssl-redirect, before source ranges, as nginx's `return` does)."},
	{Name: namePermanentRedirectCode, Section: SectionPaths, Status: Full, Risk: RiskMedium, parser: redirectParser,
		Notes: "301, 302, 303, 307 or 308."},
	{Name: nameTemporalRedirect, Section: SectionPaths, Status: Full, Risk: RiskMedium, parser: redirectParser,
		Notes: "Same URL grammar; default code 302. `permanent-redirect` wins when both are set."},
	{Name: nameTemporalRedirectCode, Section: SectionPaths, Status: Full, Risk: RiskMedium, parser: redirectParser,
		Notes: "302, 303 or 307."},
	{Name: "relative-redirects", Section: SectionPaths,
		Differs: "The redirects Portico sends carry absolute URLs it builds itself; it does not set nginx's `absolute_redirect`."},
	{Name: "use-port-in-redirects", Section: SectionPaths,
		Differs: "The redirects Portico sends carry URLs it builds itself from the request's Host; it does not set nginx's `port_in_redirect`."},
	{Name: nameFromToWWWRedirect, Section: SectionPaths, Status: Full, Risk: RiskLow, parser: fromToWWWParser,
		Notes: "`\"true\"`: the host's `www.` twin (or, for a `www.` host, the name without it) answers every request with 308 to the host, same scheme and URI, as ingress-nginx does. Dropped when the twin is the host of an Ingress of its own, or already an alias. Over HTTPS the twin is served the host's certificate, which must name it too. Rules without a host and wildcard hosts get no twin. A routed host's twin is routed too (no reload). e2e `TestAnnotationsServerAliasAndWWW`."},
	{Name: nameServerAlias, Section: SectionPaths, Status: Partly, Risk: RiskHigh, parser: serverAliasParser,
		Differs: "Host names only: wildcards, addresses and ports are refused (ingress-nginx passes the value to `server_name`, which also takes wildcards and regexes).",
		Notes:   "Comma-separated host names that the Ingress's hosts answer to as well, with the same routes and certificate (over HTTPS the certificate must name them). A name that is the host of an Ingress of its own stays that host's, and a name an older Ingress claimed stays with that Ingress, each with an `AliasConflict` Warning. A routed host's aliases are routed too (no reload); a host with a server block gets them as more `server_name`s. `portico diagnose <alias>/<path>` walks the host's Ingresses."},

	// TLS.
	{Name: nameSSLRedirect, Section: SectionTLS, Status: Partly, Risk: RiskLow, parser: sslRedirectParser,
		Differs: "The redirect keeps the request URI as sent; ingress-nginx drops a trailing slash from it unless `preserve-trailing-slash` is `\"true\"`.",
		Notes:   "`\"true\"` or `\"false\"`: overrides the ConfigMap's `ssl-redirect` (default `true`) for this Ingress. Plain HTTP requests to a host with a TLS section get 308 to `https://` with the same host and URI."},
	{Name: nameForceSSLRedirect, Section: SectionTLS, Status: Full, Risk: RiskLow, parser: forceSSLRedirectParser,
		Notes: "`\"true\"`: the 308 to HTTPS also for hosts without a TLS section."},
	{Name: "preserve-trailing-slash", Section: SectionTLS,
		Differs: "Portico's HTTPS redirects always keep the request URI as sent, trailing slash included, as with `\"true\"` (ingress-nginx's default, `\"false\"`, drops it)."},
	{Name: "ssl-passthrough", Section: SectionTLS,
		Differs: "nginx always ends TLS. Passthrough needs a layer-4 listener in front of nginx (ingress-nginx also needs its `--enable-ssl-passthrough` flag)."},
	{Name: "ssl-ciphers", Section: SectionTLS,
		Differs: "The ConfigMap key `ssl-ciphers` sets the ciphers of every host; there is no per-Ingress setting."},
	{Name: "ssl-prefer-server-ciphers", Section: SectionTLS,
		Differs: "nginx always prefers the server's ciphers (`ssl_prefer_server_ciphers on`)."},

	// Traffic policy.
	{Name: nameLoadBalance, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: loadBalanceParser,
		Notes: "`round_robin` or `ewma`; overrides the ConfigMap's `load-balance`."},
	{Name: nameUpstreamHashBy, Section: SectionTraffic, Status: Full, Risk: RiskHigh, parser: trafficParser,
		Notes: "Consistent hash ring (160 points per endpoint) over a value of nginx variables and `[A-Za-z0-9_-./:]`; evaluated in Lua, never printed into nginx.conf."},
	{Name: "upstream-hash-by-subset", Section: SectionTraffic, Differs: noHashSubset},
	{Name: "upstream-hash-by-subset-size", Section: SectionTraffic, Differs: noHashSubset},
	{Name: nameCanary, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "A canary Ingress attaches to the main Ingress's route with the same host and path (`CanaryWithoutMain` / `CanaryConflict` Warnings otherwise). Its other annotations, TLS section and default backend are ignored. Adding or removing a canary reloads once; weight changes do not."},
	{Name: nameCanaryWeight, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "Share of requests, out of `canary-weight-total`, sent to the canary; changing it never reloads."},
	{Name: nameCanaryWeightTotal, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "Default 100."},
	{Name: nameCanaryByHeader, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "Precedence header > cookie > weight, `always`/`never` as documented."},
	{Name: nameCanaryByHeaderValue, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: asAbove},
	{Name: nameCanaryByHeaderPattern, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "Go `regexp` plus a strict grammar (no `(?` groups, whitespace or back-references)."},
	{Name: nameCanaryByCookie, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "`always`/`never` as documented; after the header, before the weight."},
	{Name: nameLimitRPS, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "Each Ingress counts per client address on its own; burst = rate × multiplier (default 5), `nodelay`. Status 503, or the ConfigMap's `limit-req-status-code` / `limit-conn-status-code`. Routed hosts (the Lua router): one 10 MiB zone per rate in use (and one for connections), keyed by client address and a hash of the Ingress, which the router sets before it hands the request to the router location of the route's limits (`ngx.exec`; nginx's `limit_req`/`limit_conn` there); an allowlisted client gets an empty key, which nginx does not count. A new rate costs one reload, an Ingress with a rate in use none. Redirects (`ssl-redirect` too) and CORS preflights answer before the limits, source ranges after them, as in a static location. Hosts with `server` blocks keep zones per Ingress (1 MiB each)."},
	{Name: nameLimitRPM, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "As `limit-rps`, per minute."},
	{Name: nameLimitConnections, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "Concurrent connections per client address; as `limit-rps`."},
	{Name: nameLimitBurstMultiplier, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "Default 5."},
	{Name: nameLimitAllowlist, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "Addresses and CIDRs the limits do not count."},
	{Name: nameLimitWhitelist, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "The older name of `limit-allowlist`."},
	{Name: nameLimitRate, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "KiB/s per connection an answer is sent at (0: no cap), after the first `limit-rate-after` KiB. Digits only. Routed hosts: a router location of its own. e2e `TestAnnotationsLimitRate`: 256 KiB at 64 KiB/s after 32 KiB take 3 s."},
	{Name: nameLimitRateAfter, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "KiB; digits only."},
	{Name: nameAllowlistSourceRange, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "IPv4/IPv6 addresses and CIDRs; denied clients get 403; the denylist wins on overlap. The client address is nginx's (after `use-forwarded-headers`/`use-proxy-protocol`), an IPv4-mapped IPv6 address counts as IPv4, as with nginx's `allow`/`deny`. Hosts with them stay in the Lua router (no `server` block, no reload), which checks the address after an ssl-redirect, as nginx's access phase comes after its rewrites."},
	{Name: nameWhitelistSourceRange, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "The older name of `allowlist-source-range`."},
	{Name: nameDenylistSourceRange, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "As `allowlist-source-range`; listed clients get 403."},
	{Name: nameAffinity, Section: SectionTraffic, Status: Full, Risk: RiskLow, parser: trafficParser,
		Notes: "`cookie`: the cookie names an endpoint; a gone endpoint gets a new one and a new cookie. `HttpOnly` always; `Secure` on HTTPS, with `SameSite=None` or with `session-cookie-secure`. Travels to the Lua balancer: changing it never reloads nginx."},
	{Name: nameAffinityMode, Section: SectionTraffic, Status: Partly, Risk: RiskLow, parser: trafficParser,
		Differs: "`balanced` behaves like `persistent`: a client stays on its endpoint while it exists, also when the Service scales up.",
		Notes:   "`balanced` (default) or `persistent`."},
	{Name: "affinity-canary-behavior", Section: SectionTraffic,
		Differs: "The canary is chosen per request before affinity, as with `legacy`; ingress-nginx's default, `sticky`, keeps a client the canary served on the canary."},
	{Name: nameSessionCookieName, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "Letters, digits, `_` and `-`; default `INGRESSCOOKIE`. " + sessionCookie},
	{Name: nameSessionCookiePath, Section: SectionTraffic, Status: Partly, Risk: RiskMedium, parser: trafficParser,
		Differs: "Defaults to `/`, not the location's path.",
		Notes:   "A path grammar (letters, digits, `-._~/!&()*+,=:@`). " + sessionCookie},
	{Name: nameSessionCookieMaxAge, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "Seconds; unset (with `session-cookie-expires` unset too): a session cookie. " + sessionCookie},
	{Name: nameSessionCookieExpires, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "Seconds from now, sent as the cookie's `Expires` date. " + sessionCookie},
	{Name: nameSessionCookieSameSite, Section: SectionTraffic, Status: Partly, Risk: RiskMedium, parser: trafficParser,
		Differs: "Only `Strict`, `Lax` or `None` as written; ingress-nginx also takes them in lower case.",
		Notes:   sessionCookie},
	{Name: nameSessionCookieDomain, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "The cookie's Domain: a domain name; a leading dot is dropped, as browsers do. " + sessionCookie},
	{Name: nameSessionCookieSecure, Section: SectionTraffic, Status: Full, Risk: RiskMedium, parser: trafficParser,
		Notes: "`\"true\"`: Secure on plain HTTP too (it is always set on HTTPS and with SameSite=None). " + sessionCookie},
	{Name: "session-cookie-change-on-failure", Section: SectionTraffic,
		Differs: "A failed try never changes the cookie, as with ingress-nginx's default (`false`): the client keeps its endpoint while it exists, and gets a new one and a new cookie once it is gone."},
	{Name: "session-cookie-conditional-samesite-none", Section: SectionTraffic,
		Differs: "`SameSite=None` is sent to every client, including the old browsers ingress-nginx leaves it out for."},

	// Proxy. service-upstream comes after the traffic entries: its
	// parser reads the traffic policy.
	{Name: nameServiceUpstream, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: serviceUpstreamParser,
		Notes: "`\"true\"`: the route's requests go to the Service's cluster IP and port, one address, where kube-proxy or a service mesh picks the Pod (what meshes such as Linkerd ask of ingress-nginx). Pod readiness and endpoint changes are then theirs: what nginx holds does not change. Affinity and `upstream-hash-by` have no effect with it (an `IneffectiveAnnotation` Warning says so), and retries go to the same address. A headless Service (no cluster IP) keeps its endpoints, with a `ServiceUpstreamHeadless` Warning. Other Ingresses of the same Service without the annotation keep its Pods: the cluster-IP backend is named `ns/svc:port@service` (access log, `/configuration/backends`, `portico diagnose`, which says when no Pod behind the cluster IP is ready). No reload (e2e `TestServiceUpstream`: a host holding the cluster IP stands in for kube-proxy)."},
	{Name: nameBackendProtocol, Section: SectionProxy, Status: Partly, Risk: RiskLow, parser: proxyParser,
		Differs: "`AJP` and `FCGI` are refused.",
		Notes:   "`HTTP`, `HTTPS` (`proxy_pass https://`), `GRPC`, `GRPCS` (`grpc_pass`), all through the same Lua-balanced upstream; case-insensitive. The backend certificate is not verified unless `proxy-ssl-secret` and `proxy-ssl-verify: on` say so. Hosts with `HTTP` or `HTTPS` stay in the Lua router: once some route speaks HTTPS (one reload), the router's locations proxy to `$portico_pass`, the upstream the router names per route; `GRPC`/`GRPCS` routes go to a router location with `grpc_pass` per body limit and settings (one reload for the first, none after, as for `proxy-buffer-size`); clients reach them over HTTPS (ALPN `h2`; the HTTP port speaks HTTP/1.x only), and the backend gets the same `X-Forwarded-*`, `X-Real-IP`, `X-Original-URI` and `X-Request-ID` headers as HTTP backends, as gRPC metadata (e2e `TestAnnotationsBackendProtocolGRPC`: grpc-go's health service behind `GRPC` and `GRPCS`, calls spread over the pods, gRPC error statuses pass through)."},
	{Name: nameProxyBodySize, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "nginx size: digits with optional `k`, `m`, `g` (`0` = unlimited), at most 1 TiB. Over the limit: 413. Hosts with it stay in the Lua router (README \"Dynamic routing\"): a new limit reloads once, a limit already in use not at all."},
	{Name: nameProxyConnectTimeout, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "Whole seconds, `30` or `30s`, from 1. On a Lua-routed host the balancer sets it per request (no `server` block needed)."},
	{Name: nameProxySendTimeout, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: asAbove},
	{Name: nameProxyReadTimeout, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "As above. Over the limit: 504."},
	{Name: nameProxyBuffering, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`on` or `off`. This one and the other buffer and temporary-file settings below are set per location by nginx: hosts with them stay in the Lua router (README \"Dynamic routing\"), whose requests go to a named location with the route's settings and body limit; new settings reload once, settings already in use not at all."},
	{Name: nameProxyBufferSize, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "1k to 1m; also sets `proxy_buffers <proxy-buffers-number, else 4> <size>` and `proxy_busy_buffers_size <size>` so nginx accepts any size in range."},
	{Name: nameProxyBuffersNumber, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "2 to 64 (with `proxy_busy_buffers_size` equal to one buffer, nginx needs two); the buffers are `proxy-buffer-size` large, 4k when it is not set. Ignored for GRPC backends (nginx's `grpc_pass` has no such setting)."},
	{Name: "proxy-busy-buffers-size", Section: SectionProxy,
		Differs: "With `proxy-buffer-size` set, Portico sets `proxy_busy_buffers_size` to that size; otherwise nginx's default applies."},
	{Name: nameMaxTempFileSize, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`0` (a buffered response never goes to a temporary file) or a size in `k` or `m` of at least 8k and `proxy-buffer-size` (nginx reads this one as a size, which takes no `g`: `1024m` for `1g`). Ignored for GRPC backends."},
	{Name: nameRequestBuffering, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`on` or `off`: `off` streams the request body to the backend as it arrives (uploads to registries and artifact stores) instead of reading it all first (e2e `TestAnnotationsRequestBuffering`: the backend is reading a chunked upload before the client has sent it all, and is not without the annotation). For GRPC backends nginx has no such setting; it is ignored there. Routed hosts: a router location of its own, like `proxy-buffer-size`."},
	{Name: nameBodyBufferSize, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "1k to 64m, in `k` or `m`: how much of a request body nginx keeps in memory before it writes a temporary file."},
	{Name: nameProxyNextUpstream, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "Space-separated list, each one of `error timeout invalid_header http_500 http_502 http_503 http_504 http_403 http_404 http_429 non_idempotent off`. A retry goes to an endpoint nginx holds at the time of the retry, never to one tried before: when the endpoints changed while the first try was in flight (its pod stopping as it left the EndpointSlice), the retry picks among the new ones."},
	{Name: nameProxyNextTries, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "0 (unlimited) to 100."},
	{Name: nameProxyNextTimeout, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "Whole seconds, 0 = unlimited."},
	{Name: nameProxyHTTPVersion, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`1.0` or `1.1`."},
	{Name: nameUpstreamVhost, Section: SectionProxy, Status: Full, Risk: RiskMedium, parser: proxyParser,
		Notes: "A host name (optionally `:port`) sent as `Host`; the other forwarded headers stay. Routed in Lua: the router's locations send `$portico_upstream_host`, the route's vhost or the client's Host; the first such route reloads once to add that."},
	{Name: nameProxyCookieDomain, Section: SectionProxy, Status: Full, Risk: RiskMedium, parser: proxyParser,
		Notes: "`off` or `\"<from> <to>\"`: the Domain of the backend's Set-Cookie headers that equals `<from>` becomes `<to>`. Literal values only: no quotes, whitespace inside a value, `$` or regexes (`~`). e2e `TestAnnotationsProxyRewrites`."},
	{Name: nameProxyCookiePath, Section: SectionProxy, Status: Full, Risk: RiskMedium, parser: proxyParser,
		Notes: "As `proxy-cookie-domain`, for the Path of the backend's Set-Cookie headers that starts with `<from>`."},
	{Name: nameProxyRedirectFrom, Section: SectionProxy, Status: Partly, Risk: RiskMedium, parser: proxyParser,
		Differs: "`default` is refused: it would rewrite the name of the Lua balancer's upstream, which no backend sends.",
		Notes:   "The Location and Refresh headers of backend answers that start with `from` get `proxy-redirect-to` instead; `off` keeps them (the default: `proxy_redirect` is off). Literal URLs or paths only (no quotes, spaces, `$` or regexes)."},
	{Name: nameProxyRedirectTo, Section: SectionProxy, Status: Full, Risk: RiskMedium, parser: proxyParser,
		Notes: "See `proxy-redirect-from`; the same grammar."},
	{Name: nameProxySSLSecret, Section: SectionProxy, Status: Partly, Risk: RiskMedium, parser: proxyParser,
		Differs: "The Secret must be in the Ingress's namespace.",
		Notes:   "How nginx checks an `HTTPS` or `GRPCS` backend: a Secret in the Ingress's namespace (`name` or `<own-namespace>/name`) whose `ca.crt` (required) holds the CAs the backend's certificate must chain to, and whose `tls.crt` and `tls.key` (both or neither) are the client certificate nginx shows the backend. The files are written re-encoded, named after their content (a new Secret content reloads nginx). A Secret that cannot give them refuses the Ingress (`InvalidProxySSLSecret`). The other `proxy-ssl-*` need it (an `IneffectiveAnnotation` Warning otherwise), as in ingress-nginx. Routed hosts: a router location of its own (one reload for the first route with these settings). e2e `TestAnnotationsProxySSL`: a backend whose certificate matches the CA and `proxy-ssl-name` is served; a wrong name or another CA gives 502."},
	{Name: nameProxySSLVerify, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`on` or `off` (nginx's default, off: set it to `on` to check)."},
	{Name: nameProxySSLDepth, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "1 to 10."},
	{Name: nameProxySSLName, Section: SectionProxy, Status: Full, Risk: RiskMedium, parser: proxyParser,
		Notes: "A host name: the name the backend's certificate must hold, and the SNI with `proxy-ssl-server-name: on`. Without it nginx uses the upstream's name (`portico_balancer_https`), which no backend certificate holds."},
	{Name: nameProxySSLServerName, Section: SectionProxy, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`on` or `off`: send SNI to the backend."},
	{Name: nameProxySSLProtocols, Section: SectionProxy, Status: Partly, Risk: RiskLow, parser: proxyParser,
		Differs: "`TLSv1.2` and/or `TLSv1.3` only; older protocols are refused."},
	{Name: nameProxySSLCiphers, Section: SectionProxy, Status: Full, Risk: RiskMedium, parser: proxyParser,
		Notes: "An OpenSSL cipher list of letters, digits and `:+!@=._-`."},
	{Name: "connection-proxy-header", Section: SectionProxy,
		Differs: "The backend gets `Connection: upgrade` for upgrade requests (WebSocket) and no `Connection` header otherwise, so upstream connections stay keep-alive."},
	{Name: "custom-headers", Section: SectionProxy,
		Differs: "Portico does not add headers from a ConfigMap to answers."},
	{Name: "mirror-target", Section: SectionProxy, Differs: noMirror},
	{Name: "mirror-host", Section: SectionProxy, Differs: noMirror},
	{Name: "mirror-request-body", Section: SectionProxy, Differs: noMirror},
	{Name: "fastcgi-index", Section: SectionProxy, Differs: noFastCGI},
	{Name: "fastcgi-params-configmap", Section: SectionProxy, Differs: noFastCGI},

	// CORS.
	{Name: nameEnableCORS, Section: SectionCORS, Status: Full, Risk: RiskLow, parser: corsParser,
		Notes: "Preflight `OPTIONS` is answered 204 by nginx with the CORS headers; other answers get `Access-Control-Allow-Origin` (+ credentials, expose headers). `Vary: Origin` is added. Hosts with it stay in the Lua router, which sets the same headers before the answer (so errors carry them, as `add_header ... always`) and answers preflights after redirects and before source ranges, as the `server` block does."},
	{Name: nameCORSOrigin, Section: SectionCORS, Status: Full, Risk: RiskLow, parser: corsParser,
		Notes: "`*` (default) or a comma-separated list of `http(s)://host[:port]`, where the host may start with `*.` for exactly one label (`https://*.example.com` matches `https://a.example.com`, not `https://a.b.example.com`). nginx matches the request's `Origin` against a regular expression built from the parsed list, anchored at both ends, and echoes the origin only on a match."},
	{Name: nameCORSMethods, Section: SectionCORS, Status: Full, Risk: RiskLow, parser: corsParser,
		Notes: "Comma-separated letters only; default `GET, PUT, POST, DELETE, PATCH, OPTIONS`."},
	{Name: nameCORSHeaders, Section: SectionCORS, Status: Full, Risk: RiskLow, parser: corsParser,
		Notes: "Comma-separated `A-Za-z0-9_-` names; default as ingress-nginx."},
	{Name: nameCORSExposeHeader, Section: SectionCORS, Status: Full, Risk: RiskLow, parser: corsParser,
		Notes: "As `cors-allow-headers`, `*` allowed."},
	{Name: nameCORSCredentials, Section: SectionCORS, Status: Full, Risk: RiskLow, parser: corsParser,
		Notes: "Default `true`."},
	{Name: nameCORSMaxAge, Section: SectionCORS, Status: Full, Risk: RiskLow, parser: corsParser,
		Notes: "Seconds; default 1728000."},

	// Authentication.
	{Name: nameAuthType, Section: SectionAuth, Status: Partly, Risk: RiskMedium, parser: basicAuthParser,
		Differs: "`basic` only; `digest` is refused (nginx has no digest module).",
		Notes:   "Hosts with basic auth stay in the Lua router: the router sets the route's realm and htpasswd file for the `auth_basic` of its router location (`ngx.exec`), after ssl-redirect, redirects, CORS preflights and the source range, as in a static location; the first such route costs one reload, later ones (other Secrets included) none."},
	{Name: nameAuthSecret, Section: SectionAuth, Status: Partly, Risk: RiskMedium, parser: basicAuthParser,
		Differs: "The Secret must be in the Ingress's namespace (`name` or `<own-namespace>/name`).",
		Notes:   "A missing or invalid Secret refuses the Ingress (fails closed)."},
	{Name: nameAuthSecretType, Section: SectionAuth, Status: Full, Risk: RiskMedium, parser: basicAuthParser,
		Notes: "`auth-file` (key `auth`, htpasswd) or `auth-map` (user → hash). Lines must be `user:hash` with a hash nginx can verify: `$apr1$`, `{SHA}`, `{SSHA}`, and crypt(3) `$1$`, `$5$`, `$6$`, `$2a$`/`$2b$`/`$2y$` (bcrypt), `$y$` (Debian's libxcrypt). `{PLAIN}` and DES crypt are refused."},
	{Name: nameAuthRealm, Section: SectionAuth, Status: Full, Risk: RiskMedium, parser: basicAuthParser,
		Notes: "Up to 128 of letters, digits, space and `_.,:/@()!&*+=-`."},
	{Name: nameAuthTLSSecret, Section: SectionAuth, Status: Partly, Risk: RiskMedium, parser: clientTLSParser,
		Differs: "The Secret must be in the Ingress's namespace, and a rule without a host refuses the Ingress.",
		Notes:   "Client certificates (mTLS) on the HTTPS of the Ingress's hosts: a Secret (`name` or `<own-namespace>/name`) whose `ca.crt` holds the CA certificates (PEM; parsed and written re-encoded to a file named after its content, so a new CA reloads nginx). Such a host gets a server block (`ssl_client_certificate`, `ssl_verify_client`, `ssl_verify_depth`): not routed in Lua, so its changes reload nginx. A client without a valid certificate gets nginx's 400. The backend gets `ssl-client-verify`, `ssl-client-subject-dn` and `ssl-client-issuer-dn`. A missing Secret or one without a parsable `ca.crt` refuses the Ingress (`InvalidAuthTLSSecret`: it fails closed). Plain HTTP to the host is not checked, as in ingress-nginx: keep `ssl-redirect` on. e2e `TestAnnotationsAuthTLS`."},
	{Name: nameAuthTLSVerify, Section: SectionAuth, Status: Full, Risk: RiskMedium, parser: clientTLSParser,
		Notes: "`on` (default), `optional`, `optional_no_ca`, or `off` (no client certificates)."},
	{Name: nameAuthTLSDepth, Section: SectionAuth, Status: Full, Risk: RiskLow, parser: clientTLSParser,
		Notes: "1 (default) to 10."},
	{Name: nameAuthTLSPassCert, Section: SectionAuth, Status: Full, Risk: RiskLow, parser: clientTLSParser,
		Notes: "`\"true\"` adds `ssl-client-cert`, the client's certificate as URL-escaped PEM."},
	{Name: nameAuthTLSMatchCN, Section: SectionAuth, Status: Full, Risk: RiskHigh, parser: clientTLSParser,
		Notes: "A regular expression over the client's subject DN (`CN=alice,O=Example`), of letters, digits, spaces and `=,.*+?^$()|[]-_@:/` (no quotes, backslashes, braces or semicolons); a client whose DN does not match gets 403, after the redirect to HTTPS."},
	{Name: nameAuthTLSErrorPage, Section: SectionAuth, Status: Full, Risk: RiskHigh, parser: clientTLSParser,
		Notes: "An absolute http(s) URL (grammar as for redirects): a client whose certificate is missing or fails goes there (302) instead of nginx's 400."},
	{Name: nameAuthURL, Section: SectionAuth, Status: Partly, Risk: RiskHigh, parser: externalAuthParser,
		Differs: "The auth service's `Set-Cookie` does not reach the client; `$host` is the only variable allowed, and only when the Ingress's rules all name one host.",
		Notes:   "Absolute http(s) URL (grammar as for redirects), sent as an nginx `auth_request` subrequest with `X-Original-URL`, `X-Original-Method`, `X-Original-URI`, `X-Auth-Request-Redirect`; 2xx passes, 401/403 are returned. IP hosts are used as is; host names are resolved by nginx at request time with the nameservers of the controller's `/etc/resolv.conf`, or of `--resolver` (none: the request fails with 500). The host may be `$host`, as in ingress-nginx's oauth2-proxy example (`https://$host/oauth2/auth`): it stands for the rule's host; on a rule without a host or with a wildcard host `$host` is whatever the client sends, which would let the client pick the auth service, so such an Ingress is refused. Hosts with `auth-url` stay in the Lua router: the router names the service, its Host and method (and the sign-in page) for the `auth_request` of the route's router location, which asks it through one shared internal location and sends the `auth-response-headers`; X-Request-ID is made before the hand-off, so the service and the backend see the same one. The first route with a new set of response headers (or sign-in or not) costs one reload, later ones none."},
	{Name: nameAuthMethod, Section: SectionAuth, Status: Full, Risk: RiskHigh, parser: externalAuthParser,
		Notes: "`GET HEAD POST PUT PATCH DELETE OPTIONS`."},
	{Name: nameAuthSignin, Section: SectionAuth, Status: Partly, Risk: RiskHigh, parser: externalAuthParser,
		Differs: "Its query may be only the `rd=` forms ingress-nginx users write (below); other queries and variables are refused.",
		Notes:   "A 401 from the auth service redirects (302) to this URL with `?rd=<escaped original URL>` (scheme, the Host as sent, the request URI). Its host may be `$host`, as for `auth-url`. `rd=$escaped_request_uri` or `rd=$request_uri` (oauth2-proxy's example) send the request URI alone, escaped; `rd=$scheme://$host$escaped_request_uri` and its spellings with `$pass_access_scheme`, `$http_host`, `$best_http_host` or `$request_uri` send the original URL as without a query."},
	{Name: nameAuthResponseHeaders, Section: SectionAuth, Status: Full, Risk: RiskHigh, parser: externalAuthParser,
		Notes: "Comma-separated header names (`A-Za-z0-9-`) copied from the auth answer to the backend request."},
	{Name: "auth-cache-key", Section: SectionAuth,
		Differs: "Every request asks the auth service: there is no cache."},
	{Name: "auth-cache-duration", Section: SectionAuth,
		Differs: "Every request asks the auth service: there is no cache."},
	{Name: "auth-keepalive", Section: SectionAuth, Differs: noAuthKeepalive},
	{Name: "auth-keepalive-requests", Section: SectionAuth, Differs: noAuthKeepalive},
	{Name: "auth-keepalive-timeout", Section: SectionAuth, Differs: noAuthKeepalive},
	{Name: "auth-keepalive-share-vars", Section: SectionAuth, Differs: noAuthKeepalive},
	{Name: "auth-proxy-set-headers", Section: SectionAuth,
		Differs: "The auth request carries the headers listed under `auth-url` only."},
	{Name: "auth-request-redirect", Section: SectionAuth,
		Differs: "`X-Auth-Request-Redirect` is always the request URI."},
	{Name: "auth-always-set-cookie", Section: SectionAuth,
		Differs: "The auth service's `Set-Cookie` never reaches the client."},
	{Name: "auth-signin-redirect-param", Section: SectionAuth,
		Differs: "The sign-in URL always gets the original URL as `rd`."},
	{Name: "enable-global-auth", Section: SectionAuth,
		Differs: "There is no global auth (the ConfigMap's `global-auth-url` is not supported), so there is nothing to turn off."},
	{Name: "satisfy", Section: SectionAuth,
		Differs: "Every configured check must pass, as with ingress-nginx's default `all`."},

	// Errors and default backend.
	{Name: nameCustomHTTPErrors, Section: SectionErrors, Status: Partly, Risk: RiskMedium, parser: customHTTPErrorsParser,
		Differs: "The client keeps the original status code; ingress-nginx passes on the error backend's status.",
		Notes:   "Comma-separated codes 400–599. Backend answers with these codes are intercepted and served by the `default-backend` Service, or else by `--default-backend-service`, with headers `X-Code`, `X-Format` (the request's `Accept`), `X-Original-URI`, `X-Namespace`, `X-Ingress-Name`, `X-Service-Name`, `X-Service-Port`, `X-Request-ID`. The ConfigMap key `custom-http-errors` is the default for every location; the annotation overrides it. Routed hosts (the Lua router) keep no `server` block: the router names the error backend and its headers in variables and hands the request to the router location of the route's codes, whose `error_page` sends the intercepted errors to one shared `@portico_route_error`; the first set of codes costs one reload, later Ingresses with codes in use none."},
	{Name: nameDefaultBackend, Section: SectionErrors, Status: Partly, Risk: RiskMedium, parser: defaultBackendParser,
		Differs: "It does not take over when the Ingress's Service has no endpoints: those requests get 503 with a reason.",
		Notes:   "A Service in the Ingress's namespace (first port). Used for `custom-http-errors`."},
	{Name: "disable-proxy-intercept-errors", Section: SectionErrors,
		Differs: "With `custom-http-errors`, the listed codes are always intercepted."},

	// Snippets.
	{Name: nameConfigurationSnippet, Section: SectionSnippets, Status: Partly, Risk: RiskCritical, parser: configurationSnippetParser,
		Differs: snippetChecks,
		Notes:   "Refused (`SnippetsDisabled`, Ingress not served) unless the ConfigMap sets `allow-snippet-annotations: \"true\"` **and** `annotations-risk-level: Critical`. Then inserted verbatim in each location of the Ingress."},
	{Name: nameServerSnippet, Section: SectionSnippets, Status: Partly, Risk: RiskCritical, parser: serverSnippetParser,
		Differs: snippetChecks,
		Notes:   "Inserted in the server block of each host of the Ingress (each distinct snippet once); such a host is not routed in Lua. Otherwise as `configuration-snippet`."},
	{Name: "stream-snippet", Section: SectionSnippets,
		Differs: "Portico's nginx.conf has no `stream` block."},
	{Name: "auth-snippet", Section: SectionSnippets,
		Differs: "Nothing is inserted into the auth subrequest's location."},
	{Name: "modsecurity-snippet", Section: SectionSnippets, Differs: noModSecurity},

	// Other.
	{Name: nameEnableAccessLog, Section: SectionOther, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`\"false\"` leaves the Ingress's requests out of the access log (`access_log off` in its locations; routed hosts: a router location of its own, so the other routes pay nothing; e2e `TestAccessLogOffPerIngress`)."},
	{Name: nameEnableRewriteLog, Section: SectionOther, Status: Full, Risk: RiskLow, parser: proxyParser,
		Notes: "`\"true\"` logs nginx's rewrites of its locations at notice level (`rewrite_log on`); a routed host's `rewrite-target` runs in Lua, which it does not log."},
	{Name: "enable-opentelemetry", Section: SectionOther, Differs: noOpenTelemetry},
	{Name: "opentelemetry-trust-incoming-span", Section: SectionOther, Differs: noOpenTelemetry},
	{Name: "opentelemetry-operation-name", Section: SectionOther, Differs: noOpenTelemetry},
	{Name: "enable-modsecurity", Section: SectionOther, Differs: noModSecurity},
	{Name: "enable-owasp-core-rules", Section: SectionOther, Differs: noModSecurity},
	{Name: "modsecurity-transaction-id", Section: SectionOther, Differs: noModSecurity},
	{Name: "http2-push-preload", Section: SectionOther,
		Differs: "nginx removed HTTP/2 server push in 1.25.1; ingress-nginx v1.15 still takes the annotation, and its nginx (1.27) ignores it."},
}
