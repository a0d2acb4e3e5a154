package controller

import (
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/plan"
)

// refusalDiagnostics turns the items nginx's Lua endpoints refused (the
// model lets none through; this is the defence behind it) into Error
// diagnostics on the Ingresses they came from: a certificate on those
// whose spec.tls names its Secret, a backend on those whose paths name
// it, a host's routes on those with a path on that host.
func refusalDiagnostics(rs []plan.Refusal, cfg *model.Config, ings []*networkingv1.Ingress) []diag.Diagnostic {
	if len(rs) == 0 {
		return nil
	}
	owned := make(map[model.IngressRef]bool, len(cfg.Ingresses))
	for _, r := range cfg.Ingresses {
		owned[r] = true
	}
	var ds []diag.Diagnostic
	add := func(ref model.IngressRef, field, format string, args ...any) {
		d := diag.Errorf(field, "NginxRefusedItem", format, args...)
		d.Object = diag.Object{Kind: "Ingress", Namespace: ref.Namespace, Name: ref.Name}
		ds = append(ds, d)
	}
	// Each Ingress once per refused item, though many routes name it.
	seen := map[string]bool{}
	once := func(ref model.IngressRef, r plan.Refusal) bool {
		k := ref.String() + "\x00" + r.Kind + "\x00" + r.Name
		if seen[k] || !owned[ref] {
			return false
		}
		seen[k] = true
		return true
	}
	for _, r := range rs {
		switch r.Kind {
		case "certificate":
			for _, ing := range ings {
				ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
				for i, t := range ing.Spec.TLS {
					if ing.Namespace+"/"+t.SecretName == r.Name && once(ref, r) {
						add(ref, fmt.Sprintf("spec.tls[%d].secretName", i), "nginx refused the certificate of Secret %s (%s); "+
							"its hosts get the version nginx held before, else the default certificate", r.Name, r.Reason)
					}
				}
			}
		case "backend":
			mark := func(ref model.IngressRef, backend string) {
				if backend == r.Name && once(ref, r) {
					add(ref, "", "nginx refused backend %s (%s); its paths use the version nginx held before, else answer 503", r.Name, r.Reason)
				}
			}
			// The model's hosts hold every path, routed by Lua or not.
			for _, s := range cfg.Servers {
				for _, l := range s.Locations {
					mark(l.Ingress, l.Backend)
				}
			}
		case "host":
			// The Lua router's hosts are the model's, under their names and
			// their aliases.
			for _, s := range cfg.Servers {
				if s.Host != r.Name && !slices.Contains(s.Aliases, r.Name) {
					continue
				}
				for _, l := range s.Locations {
					if l.Ingress != (model.IngressRef{}) && once(l.Ingress, r) {
						add(l.Ingress, "", "nginx refused the routes of host %q (%s); the host keeps the routes nginx held before, else "+
							"the rules without a host serve it", r.Name, r.Reason)
					}
				}
			}
		}
	}
	return ds
}
