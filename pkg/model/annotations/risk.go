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

// RiskOf returns the risk level of annotation name (without Prefix): its
// catalog entry's, or Critical for a name the catalog gives none.
func RiskOf(name string) Risk {
	if e, ok := byName[name]; ok && e.Risk != 0 {
		return e.Risk
	}
	return RiskCritical
}

// Policy applies the operator's limits to the annotations of one Ingress,
// as ingress-nginx does. An annotation riskier than max is an Error: the
// Ingress is refused (model.Build). A snippet within max that the
// operator has not allowed (allowSnippets false) is a Warning: the
// Ingress is served without it (the caller parses WithoutSnippets).
func Policy(a Annotations, max Risk, allowSnippets bool) []diag.Diagnostic {
	var names []string
	for k, v := range a {
		if n, ok := strings.CutPrefix(k, Prefix); ok && Supported(n) && v != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var ds []diag.Diagnostic
	for _, n := range names {
		if r := RiskOf(n); r > max {
			allow := ""
			if isSnippet(n) && !allowSnippets {
				allow = `, and snippets need allow-snippet-annotations: "true" too`
			}
			ds = append(ds, diag.Errorf(field(n), "AnnotationRiskTooHigh",
				"annotation risk level %s is above the ConfigMap's annotations-risk-level %s%s", r, max, allow))
			continue
		}
		if isSnippet(n) && !allowSnippets {
			ds = append(ds, diag.Warnf(field(n), "SnippetsDisabled",
				"snippet annotations are disabled (ConfigMap allow-snippet-annotations); the Ingress is served without this snippet, as in ingress-nginx"))
		}
	}
	return ds
}
