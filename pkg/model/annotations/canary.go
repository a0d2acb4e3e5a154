package annotations

import (
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameCanary                = "canary"
	nameCanaryWeight          = "canary-weight"
	nameCanaryWeightTotal     = "canary-weight-total"
	nameCanaryByHeader        = "canary-by-header"
	nameCanaryByHeaderValue   = "canary-by-header-value"
	nameCanaryByHeaderPattern = "canary-by-header-pattern"
	nameCanaryByCookie        = "canary-by-cookie"
)

// Canary is the canary policy of an Ingress marked canary: its paths do
// not become routes; they give the main Ingress's matching routes an
// alternative backend, chosen per request in Lua. Precedence: header, then
// cookie, then weight.
type Canary struct {
	// Enabled is the canary annotation.
	Enabled bool
	// Weight of WeightTotal requests go to the canary: WeightTotal is at
	// least 100 and Weight at most WeightTotal, as ingress-nginx's
	// balancer counts canary-weight and canary-weight-total.
	Weight      int
	WeightTotal int
	// Header names the request header: "always" routes to the canary,
	// "never" away from it, unless HeaderValue or HeaderPattern is set, in
	// which case a matching value routes to the canary. Other values fall
	// through to the cookie and weight.
	Header HeaderName
	// HeaderValue is matched exactly; it wins over HeaderPattern.
	HeaderValue string
	// HeaderPattern is a regular expression in the subset shared by Go
	// and PCRE (see headerPattern).
	HeaderPattern string
	// Cookie names a cookie whose value "always" or "never" decides.
	Cookie CookieName
}

// HeaderName is an HTTP header name of letters, digits and '-'.
type HeaderName string

// CookieName is a cookie name of letters, digits, '_' and '-'.
type CookieName string

const (
	maxWeightTotal = 1000000
	// minWeightTotal is the least total ingress-nginx's balancer counts.
	minWeightTotal = 100
	maxHeaderValue = 256
	maxPattern     = 256
	maxName        = 128
)

var (
	headerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	cookieName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)
	// headerValue is visible ASCII with inner spaces.
	headerValue = regexp.MustCompile(`^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$`)
	// patternChars is visible ASCII without whitespace.
	patternChars = regexp.MustCompile(`^[\x21-\x7e]+$`)
	// patternEscape lists the escapes both Go and PCRE read the same way:
	// a punctuation character or one of the classes \d \w \s \D \W \S.
	patternEscape = regexp.MustCompile(`\\(.)`)
)

// parseHeaderPattern checks that p is a regular expression Go and PCRE
// agree on: no groups with flags or look-around ("(?"), no backreferences,
// no \p, \Q, \x escapes or the like; and it compiles in Go.
func parseHeaderPattern(p string) bool {
	if len(p) > maxPattern || !patternChars.MatchString(p) || strings.Contains(p, "(?") {
		return false
	}
	for _, m := range patternEscape.FindAllStringSubmatch(p, -1) {
		c := m[1][0]
		if !(strings.IndexByte(`.^$*+?()[]{}|\/-`, c) >= 0 || strings.IndexByte("dwsDWS", c) >= 0) {
			return false
		}
	}
	if strings.HasSuffix(strings.ReplaceAll(p, `\\`, ""), `\`) {
		return false
	}
	_, err := regexp.Compile(p)
	return err == nil
}

func parseCanary(a Annotations) (Canary, []diag.Diagnostic) {
	var (
		c     Canary
		ds, d []diag.Diagnostic
	)
	on, _, d := parseBool(a, nameCanary)
	ds = append(ds, d...)
	c.WeightTotal, d = parseInt(a, nameCanaryWeightTotal, 0, maxWeightTotal, 100)
	ds = append(ds, d...)
	c.Weight, d = parseInt(a, nameCanaryWeight, 0, maxWeightTotal, 0)
	ds = append(ds, d...)
	// ingress-nginx's balancer sends a request to the canary when
	// math.random(total) <= weight, with a total below 100 taken as 100:
	// so is the share here.
	if c.WeightTotal < minWeightTotal {
		ds = append(ds, diag.Infof(field(nameCanaryWeightTotal), "CanaryWeightTotalRaised",
			"%d counts as %d, as in ingress-nginx: canary-weight %d sends %d of every %d requests to the canary",
			c.WeightTotal, minWeightTotal, c.Weight, min(c.Weight, minWeightTotal), minWeightTotal))
		c.WeightTotal = minWeightTotal
	}
	c.Weight = min(c.Weight, c.WeightTotal)
	if v, ok := a.lookup(nameCanaryByHeader); ok {
		if len(v) > maxName || !headerName.MatchString(v) {
			ds = append(ds, invalid(nameCanaryByHeader, v, "want a header name of letters, digits and -")...)
		}
		c.Header = HeaderName(v)
	}
	if v, ok := a.lookup(nameCanaryByHeaderValue); ok {
		if len(v) > maxHeaderValue || !headerValue.MatchString(v) {
			ds = append(ds, invalid(nameCanaryByHeaderValue, v, "want visible ASCII characters")...)
		}
		c.HeaderValue = v
	}
	if v, ok := a.lookup(nameCanaryByHeaderPattern); ok {
		if !parseHeaderPattern(v) {
			ds = append(ds, invalid(nameCanaryByHeaderPattern, v,
				"want a regular expression without whitespace, (?...) groups or escapes other than \\d \\w \\s and escaped punctuation")...)
		}
		c.HeaderPattern = v
	}
	if v, ok := a.lookup(nameCanaryByCookie); ok {
		if len(v) > maxName || !cookieName.MatchString(v) {
			ds = append(ds, invalid(nameCanaryByCookie, v, "want a cookie name of letters, digits, _ and -")...)
		}
		c.Cookie = CookieName(v)
	}
	if (c.HeaderValue != "" || c.HeaderPattern != "") && c.Header == "" {
		ds = append(ds, diag.Warnf(field(nameCanaryByHeader), "IgnoredAnnotation",
			"canary-by-header-value and canary-by-header-pattern need canary-by-header; they are ignored"))
	}
	if diag.HasError(ds) || !on {
		return Canary{}, ds
	}
	c.Enabled = true
	return c, ds
}
