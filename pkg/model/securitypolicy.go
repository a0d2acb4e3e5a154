package model

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Policy is the ConfigMap's security policy, as ingress-nginx's keys of
// the same names.
type Policy struct {
	// AllowCrossNamespace lets annotations name Secrets of other
	// namespaces (allow-cross-namespace-resources).
	AllowCrossNamespace bool `json:"allowCrossNamespace,omitempty"`
	// WordBlocklist are words no annotation value under the prefix may
	// contain (annotation-value-word-blocklist): such an Ingress is not
	// served.
	WordBlocklist []string `json:"wordBlocklist,omitempty"`
	// StrictPathType is strict-validate-path-type; Portico's path grammar
	// applies either way (docs/configmap.md).
	StrictPathType bool `json:"strictPathType"`
	// BlockCIDRs, BlockUserAgents and BlockReferers get 403 on every host
	// (block-cidrs, block-user-agents, block-referers). An agent or a
	// referer is an exact string, or a regex after ~ (case-sensitive) or
	// ~* (case-insensitive), as keys of nginx's map.
	BlockCIDRs      []string `json:"blockCIDRs,omitempty"`
	BlockUserAgents []string `json:"blockUserAgents,omitempty"`
	BlockReferers   []string `json:"blockReferers,omitempty"`
}

const maxBlockEntries = 1024

// cidrList parses a comma-separated list of addresses and networks
// (canonical, an address as itself) of family (4, 6 or 0 for both); empty
// is none.
func cidrList(v string, family int) ([]string, bool) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var p netip.Prefix
		if a, err := netip.ParseAddr(f); err == nil && a.Zone() == "" && !a.Is4In6() {
			p = netip.PrefixFrom(a, a.BitLen())
		} else if q, err := netip.ParsePrefix(f); err == nil && !q.Addr().Is4In6() {
			p = q.Masked()
		} else {
			return nil, false
		}
		if family == 4 && !p.Addr().Is4() || family == 6 && !p.Addr().Is6() {
			return nil, false
		}
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
		} else {
			out = append(out, p.String())
		}
	}
	return out, len(out) <= maxBlockEntries
}

func blockCIDRs(v string, b *globalBuild) string {
	l, ok := cidrList(v, 0)
	if !ok {
		return fmt.Sprintf("comma-separated IPv4 or IPv6 addresses or CIDRs such as 10.0.0.0/8, 2001:db8::/32, at most %d", maxBlockEntries)
	}
	b.g.Policy.BlockCIDRs = l
	return ""
}

// blockPattern is one entry of block-user-agents or block-referers: no
// double quote, control character or NUL (package plan prints it as a
// quoted regex key of nginx's map).
var blockPattern = regexp.MustCompile(`^[^"\x00-\x1f\x7f]{1,512}$`)

// blockList parses block-user-agents or block-referers: comma-separated
// entries, each exact or a regex after ~ or ~* that compiles.
func blockList(field func(b *globalBuild) *[]string) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		const want = "comma-separated strings, or regexes after ~ (case-sensitive) or ~* (case-insensitive), without double quotes"
		var out []string
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if !blockPattern.MatchString(e) {
				return want
			}
			if re, ok := strings.CutPrefix(e, "~"); ok {
				re = strings.TrimPrefix(re, "*")
				if _, err := regexp.Compile(re); err != nil || re == "" {
					return want + fmt.Sprintf("; %s is not a regex", quote(e))
				}
			}
			out = append(out, e)
		}
		if len(out) > maxBlockEntries {
			return fmt.Sprintf("at most %d entries", maxBlockEntries)
		}
		*field(b) = out
		return ""
	}
}

func wordBlocklist(v string, b *globalBuild) string {
	var out []string
	for _, w := range strings.Split(strings.TrimSpace(v), ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	b.g.Policy.WordBlocklist = out
	return ""
}

// blockedWords refuses an Ingress an annotation value of which contains
// a word of annotation-value-word-blocklist, as ingress-nginx does.
func (p Policy) blockedWords(a map[string]string) []diag.Diagnostic {
	if len(p.WordBlocklist) == 0 {
		return nil
	}
	var ds []diag.Diagnostic
	for k, v := range a {
		if !strings.HasPrefix(k, annotations.Prefix) {
			continue
		}
		for _, w := range p.WordBlocklist {
			if strings.Contains(v, w) {
				ds = append(ds, diag.Errorf("metadata.annotations["+truncate(k)+"]", "BlockedAnnotationWord",
					"the value contains %s, a word of the ConfigMap's annotation-value-word-blocklist", quote(w)))
				break
			}
		}
	}
	diag.Sort(ds)
	return ds
}

// secretRef is the Secret an annotation of an Ingress in namespace own
// names as namespace/name (namespace "" for the Ingress's own): another
// namespace's only with allow-cross-namespace-resources.
func (b *builder) secretRef(own, namespace, name string) (SecretRef, error) {
	if namespace == "" || namespace == own {
		return SecretRef{own, name}, nil
	}
	if !b.cfg.Global.Policy.AllowCrossNamespace {
		return SecretRef{own, name}, fmt.Errorf("secret %s/%s is not in the Ingress's namespace (allow-cross-namespace-resources is false)", namespace, name)
	}
	return SecretRef{namespace, name}, nil
}
