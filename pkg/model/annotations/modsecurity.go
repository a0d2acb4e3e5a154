package annotations

import (
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameEnableModSecurity     = "enable-modsecurity"
	nameEnableOWASPCoreRules  = "enable-owasp-core-rules"
	nameModSecurityTransID    = "modsecurity-transaction-id"
	nameModSecuritySnippet    = "modsecurity-snippet"
	maxModSecurityTransaction = 256
)

// ModSecurity is what an Ingress's ModSecurity annotations ask of its
// locations, as ingress-nginx reads them: Enable with EnableSet (the
// annotation was given: "false" turns off the ConfigMap's), the OWASP
// Core Rule Set, the transaction id and rules of its own.
type ModSecurity struct {
	Enable    bool `json:"enable,omitempty"`
	EnableSet bool `json:"enableSet,omitempty"`
	OWASP     bool `json:"owasp,omitempty"`
	// TransactionID is nginx variables and [A-Za-z0-9_.:-].
	TransactionID string           `json:"transactionID,omitempty"`
	Rules         ModSecurityRules `json:"rules,omitempty"`
}

// ModSecurityRules are ModSecurity rules (modsecurity-snippet) printed as
// the one single-quoted argument of modsecurity_rules, as ingress-nginx
// prints them: nginx's escapes (\' \" \\) are read as nginx reads them,
// so a rule may hold a quote. Checked to stay that one argument: no bare
// ', no \ at the end, no NUL, at most 64 KiB.
type ModSecurityRules string

// ParseModSecurityRules checks v; want says what it must look like.
func ParseModSecurityRules(v string) (ModSecurityRules, string) {
	const want = "ModSecurity rules in which every ' is escaped as \\' (they are printed in nginx's single quotes), no NUL byte, at most 64 KiB"
	if len(v) > maxSnippet || strings.IndexByte(v, 0) >= 0 {
		return "", want
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i+1 == len(v) {
				return "", want
			}
			i++
		case '\'':
			return "", want
		}
	}
	return ModSecurityRules(v), ""
}

// transactionID is ingress-nginx's grammar of modsecurity-transaction-id
// made strict: nginx variables ($name, ${name}) and [A-Za-z0-9_.:-].
var transactionID = regexp.MustCompile(`^(?:\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z0-9_.:-])+$`)

func parseModSecurity(a Annotations) (*ModSecurity, []diag.Diagnostic) {
	var m ModSecurity
	var ds []diag.Diagnostic
	set := false
	var d []diag.Diagnostic
	m.Enable, m.EnableSet, d = parseBool(a, nameEnableModSecurity)
	ds = append(ds, d...)
	m.OWASP, set, d = parseBool(a, nameEnableOWASPCoreRules)
	ds = append(ds, d...)
	if v, ok := a.lookup(nameModSecurityTransID); ok && v != "" {
		set = true
		if len(v) > maxModSecurityTransaction || !transactionID.MatchString(v) {
			ds = append(ds, invalid(nameModSecurityTransID, v, "want nginx variables ($name or ${name}) and letters, digits, _ . : -, at most 256 characters")...)
		} else {
			m.TransactionID = v
		}
	}
	if v, ok := a.lookup(nameModSecuritySnippet); ok && strings.TrimSpace(v) != "" {
		set = true
		r, want := ParseModSecurityRules(v)
		if want != "" {
			ds = append(ds, invalid(nameModSecuritySnippet, v, "want "+want)...)
		}
		m.Rules = r
	}
	if !set && !m.EnableSet {
		return nil, ds
	}
	return &m, ds
}
