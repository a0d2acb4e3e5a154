package annotations

import (
	"sort"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Risk is how much harm an annotation can do in the hands of someone who
// may only edit Ingresses. The ConfigMap key annotations-risk-level caps
// the accepted risk; the default is High, as in current ingress-nginx.
type Risk int

const (
	RiskLow Risk = iota + 1
	RiskMedium
	RiskHigh
	RiskCritical
)

var riskNames = map[string]Risk{"Low": RiskLow, "Medium": RiskMedium, "High": RiskHigh, "Critical": RiskCritical}

func (r Risk) String() string {
	for n, v := range riskNames {
		if v == r {
			return n
		}
	}
	return "Unknown"
}

// ParseRisk parses Low, Medium, High or Critical.
func ParseRisk(v string) (Risk, bool) {
	r, ok := riskNames[v]
	return r, ok
}

// risks gives every annotation Portico supports (and the traffic-policy
// group) its risk level; docs/annotations.md repeats this table. A name
// missing here is Critical.
var risks = map[string]Risk{
	// Raw nginx configuration.
	nameConfigurationSnippet: RiskCritical,
	nameServerSnippet:        RiskCritical,
	// Send requests or credentials to an arbitrary URL.
	nameAuthURL:             RiskHigh,
	nameAuthSignin:          RiskHigh,
	nameAuthMethod:          RiskHigh,
	nameAuthResponseHeaders: RiskHigh,
	// Change what the backend or the client sees.
	nameRewriteTarget:         RiskMedium,
	nameUseRegex:              RiskMedium,
	nameAppRoot:               RiskMedium,
	nameXFwdPrefix:            RiskMedium,
	namePermanentRedirect:     RiskMedium,
	namePermanentRedirectCode: RiskMedium,
	nameTemporalRedirect:      RiskMedium,
	nameTemporalRedirectCode:  RiskMedium,
	nameUpstreamVhost:         RiskMedium,
	nameCustomHTTPErrors:      RiskMedium,
	nameDefaultBackend:        RiskMedium,
	nameAuthType:              RiskMedium,
	nameAuthSecret:            RiskMedium,
	nameAuthSecretType:        RiskMedium,
	nameAuthRealm:             RiskMedium,
	// Tuning within one location.
	nameBackendProtocol:     RiskLow,
	nameProxyBodySize:       RiskLow,
	nameProxyConnectTimeout: RiskLow,
	nameProxySendTimeout:    RiskLow,
	nameProxyReadTimeout:    RiskLow,
	nameProxyBuffering:      RiskLow,
	nameProxyBufferSize:     RiskLow,
	nameProxyNextUpstream:   RiskLow,
	nameProxyNextTries:      RiskLow,
	nameProxyNextTimeout:    RiskLow,
	nameProxyHTTPVersion:    RiskLow,
	nameRequestBuffering:    RiskLow,
	nameBodyBufferSize:      RiskLow,
	nameProxyBuffersNumber:  RiskLow,
	nameMaxTempFileSize:     RiskLow,
	nameEnableCORS:          RiskLow,
	nameCORSOrigin:          RiskLow,
	nameCORSMethods:         RiskLow,
	nameCORSHeaders:         RiskLow,
	nameCORSCredentials:     RiskLow,
	nameCORSMaxAge:          RiskLow,
	nameCORSExposeHeader:    RiskLow,
	nameLoadBalance:         RiskLow,
	nameSSLRedirect:         RiskLow,
	nameForceSSLRedirect:    RiskLow,
	nameServiceUpstream:     RiskLow,
	nameServerAlias:         RiskHigh,
	nameFromToWWWRedirect:   RiskLow,
	nameAuthTLSSecret:       RiskMedium,
	nameAuthTLSVerify:       RiskMedium,
	nameAuthTLSDepth:        RiskLow,
	nameAuthTLSPassCert:     RiskLow,
	nameAuthTLSMatchCN:      RiskHigh,
	nameEnableAccessLog:     RiskLow,
	nameEnableRewriteLog:    RiskLow,
	nameAuthTLSErrorPage:    RiskHigh,
	nameProxySSLSecret:      RiskMedium,
	nameProxySSLVerify:      RiskLow,
	nameProxySSLDepth:       RiskLow,
	nameProxySSLName:        RiskMedium,
	nameProxySSLServerName:  RiskLow,
	nameProxySSLProtocols:   RiskLow,
	nameProxySSLCiphers:     RiskMedium,
	nameProxyRedirectFrom:   RiskMedium,
	nameProxyRedirectTo:     RiskMedium,
	nameProxyCookieDomain:   RiskMedium,
	nameProxyCookiePath:     RiskMedium,
	// Traffic policy (implemented on the annot-traffic branch).
	"canary": RiskLow, "canary-by-header": RiskMedium, "canary-by-header-value": RiskMedium,
	"canary-by-header-pattern": RiskMedium, "canary-by-cookie": RiskMedium, "canary-weight": RiskLow,
	"canary-weight-total": RiskLow, "limit-connections": RiskLow, "limit-rps": RiskLow, "limit-rpm": RiskLow,
	"limit-burst-multiplier": RiskLow, "limit-rate": RiskLow, "limit-rate-after": RiskLow,
	"limit-whitelist": RiskLow, "limit-allowlist": RiskLow, "whitelist-source-range": RiskMedium,
	"allowlist-source-range": RiskMedium, "denylist-source-range": RiskMedium, "affinity": RiskLow,
	"affinity-mode": RiskLow, "affinity-canary-behavior": RiskLow, "session-cookie-name": RiskMedium,
	"session-cookie-path": RiskMedium, "session-cookie-domain": RiskMedium, "session-cookie-max-age": RiskMedium,
	"session-cookie-expires": RiskMedium, "session-cookie-samesite": RiskMedium,
	"session-cookie-secure": RiskMedium, "session-cookie-change-on-failure": RiskMedium,
	"session-cookie-conditional-samesite-none": RiskMedium, "upstream-hash-by": RiskHigh,
	"upstream-hash-by-subset": RiskHigh, "upstream-hash-by-subset-size": RiskHigh,
}

// RiskOf returns the risk level of annotation name (without Prefix).
func RiskOf(name string) Risk {
	if r, ok := risks[name]; ok {
		return r
	}
	return RiskCritical
}

// Policy applies the operator's limits to the annotations of one Ingress:
// snippets need allowSnippets, and no annotation may be riskier than max.
// Each violation is an Error: the Ingress is not served.
func Policy(a Annotations, max Risk, allowSnippets bool) []diag.Diagnostic {
	var names []string
	for k := range a {
		if n, ok := strings.CutPrefix(k, Prefix); ok && supported[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var ds []diag.Diagnostic
	for _, n := range names {
		if (n == nameConfigurationSnippet || n == nameServerSnippet) && !allowSnippets {
			ds = append(ds, diag.Errorf(field(n), "SnippetsDisabled",
				"snippet annotations are disabled; the operator can allow them with the ConfigMap key allow-snippet-annotations: \"true\" (and annotations-risk-level: Critical)"))
			continue
		}
		if r := RiskOf(n); r > max {
			ds = append(ds, diag.Errorf(field(n), "AnnotationRiskTooHigh",
				"annotation risk level %s is above the ConfigMap's annotations-risk-level %s", r, max))
		}
	}
	return ds
}
