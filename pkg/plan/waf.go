package plan

import (
	"path/filepath"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// WAF is what nginx.conf prints of ModSecurity: the module is loaded only
// while the ConfigMap or a location turns it on (it costs every request
// it inspects); On is the ConfigMap's enable-modsecurity, printed at the
// http level with its Rules (or RulesFile) and CRSFile, and turned off
// again in the status server and, as ingress-nginx's nginx.conf does, in
// the internal locations a request passes on to (auth subrequests, error
// pages, sign-in redirects): ModSecurity would make each a transaction
// of its own and inspect (and log) the request again there.
type WAF struct {
	Module, On bool
	Rules      annotations.ModSecurityRules
	// RulesFile is Portico's modsecurity.conf (SecRuleEngine
	// DetectionOnly) and CRSFile the file that loads the OWASP Core Rule
	// Set (ingress-nginx's path names it too); CRS loads it at the http
	// level.
	RulesFile, CRSFile string
	CRS                bool
}

// InspectsOnce reports whether internal locations turn ModSecurity off:
// the ConfigMap's is on (an annotation's is on in its own locations
// only).
func (w *WAF) InspectsOnce() bool { return w != nil && w.On }

// wafOf is m's WAF; Portico's ModSecurity files are beside its Lua
// modules (rootfs/etc/nginx).
func wafOf(m *model.Config, luaDir string) *WAF {
	dir := filepath.Dir(luaDir)
	w := &WAF{On: m.Global.WAF.On, Rules: m.Global.WAF.Rules, CRS: m.Global.WAF.On && m.Global.WAF.CRS,
		RulesFile: filepath.Join(dir, "modsecurity", "modsecurity.conf"),
		CRSFile:   filepath.Join(dir, "owasp-modsecurity-crs", "nginx-modsecurity.conf")}
	w.Module = w.On
	for _, s := range m.Servers {
		for _, l := range s.Locations {
			if ms := l.ModSecurity; ms != nil && ms.Enable {
				w.Module = true
			}
		}
	}
	return w
}

// directives are the ModSecurity directives of a location whose Ingress
// has annotations ms, as ingress-nginx prints them: "false" turns the
// ConfigMap's off; "true" turns it on with Portico's rules unless the
// Ingress has its own; the Core Rule Set when the ConfigMap does not load
// it already. A location the module is not loaded for gets none.
func (w *WAF) directives(ms *annotations.ModSecurity) []string {
	if ms == nil || !w.Module || (!w.On && !ms.Enable) {
		return nil
	}
	if ms.EnableSet && !ms.Enable {
		return []string{"modsecurity off"}
	}
	var out []string
	if !w.On {
		out = append(out, "modsecurity on")
	}
	if ms.Rules != "" {
		out = append(out, "modsecurity_rules '\n"+string(ms.Rules)+"\n'")
	}
	if ms.TransactionID != "" {
		out = append(out, `modsecurity_transaction_id "`+ms.TransactionID+`"`)
	}
	if !w.On && ms.Rules == "" {
		out = append(out, "modsecurity_rules_file "+w.RulesFile)
	}
	if !w.CRS && ms.OWASP {
		out = append(out, "modsecurity_rules_file "+w.CRSFile)
	}
	return out
}
