package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

// A parser reads one annotation, or a group of them (the proxy settings,
// CORS, ...), into a Set: it calls the function of the annotation's own
// file and stores the result in the Set field. A catalog entry names its
// annotation's parser, or the group parser its annotation belongs to;
// Parse runs each parser once, in catalog order, so a parser may read
// what the parser of an earlier entry set.
type parser uint8

const (
	useRegexParser parser = iota + 1
	rewriteTargetParser
	appRootParser
	xForwardedPrefixParser
	redirectParser
	fromToWWWParser
	serverAliasParser
	sslRedirectParser
	forceSSLRedirectParser
	sslPassthroughParser
	loadBalanceParser
	trafficParser
	serviceUpstreamParser
	proxyParser
	corsParser
	basicAuthParser
	clientTLSParser
	externalAuthParser
	globalAuthParser
	customHTTPErrorsParser
	defaultBackendParser
	configurationSnippetParser
	serverSnippetParser
	redirectFormParser
	satisfyParser
	tlsCiphersParser
	http2PushPreloadParser
	customHeadersParser
	mirrorParser
	fastCGIParser
	interceptErrorsParser
	modSecurityParser
	tracingParser
	streamSnippetParser
)

// run runs parser p. A switch rather than function values: a direct call
// lets s stay on Parse's stack (the Set is large, and Parse runs for every
// Ingress of every build).
func (p parser) run(a Annotations, s *Set) (ds []diag.Diagnostic) {
	switch p {
	case useRegexParser:
		s.UseRegex, ds = parseUseRegex(a)
	case rewriteTargetParser:
		s.RewriteTarget, ds = parseRewriteTarget(a)
	case appRootParser:
		s.AppRoot, ds = parseAppRoot(a)
	case xForwardedPrefixParser:
		s.XForwardedPrefix, ds = parseXForwardedPrefix(a)
	case redirectParser:
		s.Redirect, ds = parseRedirect(a)
	case fromToWWWParser:
		s.FromToWWW, ds = parseFromToWWW(a)
	case serverAliasParser:
		s.ServerAliases, ds = parseServerAlias(a)
	case sslRedirectParser:
		s.SSLRedirect, ds = parseSSLRedirect(a)
	case forceSSLRedirectParser:
		s.ForceSSLRedirect, ds = parseForceSSLRedirect(a)
	case sslPassthroughParser:
		s.SSLPassthrough, ds = parseSSLPassthrough(a)
	case loadBalanceParser:
		s.LoadBalance, ds = parseLoadBalance(a)
	case trafficParser: // after useRegexParser: it reads s.UseRegex
		s.Traffic, ds = parseTraffic(a)
		if s.UseRegex && s.Traffic.Affinity.Cookie != "" && s.Traffic.Affinity.Path == "" {
			ds = append(ds, diag.Warnf(field(nameSessionCookiePath), "IneffectiveAnnotation",
				"with use-regex the affinity cookie's Path is the regular expression, which browsers read literally: set session-cookie-path (ingress-nginx warns the same)"))
		}
	case serviceUpstreamParser: // after trafficParser: it reads s.Traffic
		s.ServiceUpstream, ds = parseServiceUpstream(a)
		if s.ServiceUpstream && (s.Traffic.Affinity.Cookie != "" || s.Traffic.HashBy != "") {
			ds = append(ds, diag.Warnf(field(nameServiceUpstream), "IneffectiveAnnotation",
				"with service-upstream every request goes to the Service's one cluster IP: affinity and upstream-hash-by have no effect"))
		}
	case proxyParser:
		s.Proxy, ds = parseProxy(a)
	case corsParser:
		s.CORS, ds = parseCORS(a)
	case basicAuthParser:
		s.BasicAuth, ds = parseBasicAuth(a)
	case clientTLSParser:
		s.ClientTLS, ds = parseClientTLS(a)
	case externalAuthParser:
		s.ExternalAuth, ds = parseExternalAuth(a)
	case globalAuthParser:
		s.NoGlobalAuth, ds = parseEnableGlobalAuth(a)
	case customHTTPErrorsParser:
		s.CustomHTTPErrors, ds = parseCustomHTTPErrors(a)
	case defaultBackendParser:
		s.DefaultBackend, ds = parseDefaultBackend(a)
	case configurationSnippetParser:
		s.ConfigurationSnippet, ds = parseSnippet(a, nameConfigurationSnippet)
	case serverSnippetParser:
		s.ServerSnippet, ds = parseSnippet(a, nameServerSnippet)
	case redirectFormParser:
		s.RedirectForm, ds = parseRedirectForm(a)
	case satisfyParser:
		s.Satisfy, ds = parseSatisfy(a)
	case tlsCiphersParser:
		s.TLSCiphers, ds = parseTLSCiphers(a)
	case http2PushPreloadParser:
		ds = parseHTTP2PushPreload(a)
	case customHeadersParser:
		s.CustomHeaders, ds = parseCustomHeaders(a)
	case mirrorParser:
		s.Mirror, ds = parseMirror(a)
	case fastCGIParser:
		s.FastCGI, ds = parseFastCGI(a)
	case interceptErrorsParser:
		s.NoInterceptErrors, ds = parseNoInterceptErrors(a)
	case modSecurityParser:
		s.ModSecurity, ds = parseModSecurity(a)
	case tracingParser:
		s.Tracing, ds = parseTracing(a)
	case streamSnippetParser:
		s.StreamSnippet, ds = parseSnippet(a, nameStreamSnippet)
	default:
		panic("annotations: parser has no case in run")
	}
	return ds
}
