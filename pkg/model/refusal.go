package model

import (
	"fmt"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Refused Ingresses. An Ingress with an Error diagnostic on its
// annotations (a value outside its grammar, a missing Secret, an
// annotation above the operator's risk level) is refused, but it never
// opens a path: none of its requests may fall to another route, without
// the auth, allow-list or redirect it asked for. So, in this order:
//
//   - a changed Ingress whose previous version the last config served
//     (Input.Served) keeps that version serving, if it is not refused
//     itself;
//   - else its paths (and, for its hosts, its spec.defaultBackend) are
//     claimed by a route that answers 503 naming the cause: a Backend of
//     no Service (Refused), whose NoEndpoints the balancer answers;
//   - a refused canary is not attached: the main route serves alone.

// refusedSuffix ends the name of the Backend of a refused Ingress:
// "ns/name@refused".
const refusedSuffix = "@refused"

// refuse serves what is left of an Ingress whose settings ds refused:
// its previous version, or 503 on its paths.
func (b *builder) refuse(obj diag.Object, ing *networkingv1.Ingress, set annotations.Set, ds []diag.Diagnostic) {
	ref := IngressRef{ing.Namespace, ing.Name}
	if prev := b.served[ref]; prev != nil && prev.ResourceVersion != ing.ResourceVersion {
		n := len(b.diags)
		pset, phx, pds := b.settings(obj, prev)
		if !diag.HasError(pds) {
			b.serve(obj, prev, pset, phx)
			// The previous version's findings were reported when it was
			// the latest.
			b.diags = b.diags[:n]
			b.cfg.ServedPrevious = append(b.cfg.ServedPrevious, ref)
			b.diag(obj, diag.Errorf("", "IngressRejected",
				"the latest change of the Ingress is refused because of the errors above; its previous version (resourceVersion %s) keeps serving", prev.ResourceVersion))
			return
		}
		b.diags = b.diags[:n]
	}
	if canary, err := strconv.ParseBool(ing.Annotations[annotations.Prefix+"canary"]); err == nil && canary {
		b.diag(obj, diag.Errorf("", "IngressRejected",
			"the canary Ingress is refused because of the errors above; it is not attached, its main Ingress serves alone"))
		return
	}
	be := b.backends.refused(ref, refusalCause(ref, ds), b.cfg.Global.LoadBalance)
	b.diag(obj, diag.Errorf("", "IngressRejected",
		"the Ingress is refused because of the errors above: its paths answer 503 until they are fixed, so that none of its requests goes to another route"))
	for ri, rule := range ing.Spec.Rules {
		srv := b.ruleServer(obj, ri, rule.Host)
		if srv == nil {
			continue
		}
		if srv.fallback == "" && ing.Spec.DefaultBackend != nil {
			srv.fallback = be.Name
		}
		if rule.HTTP == nil {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			if c := b.claimOf(obj, ref, fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi), p, set); c != nil {
				c.route.loc.Backend = be.Name
				srv.claims = append(srv.claims, c)
			}
		}
	}
	b.addTLS(obj, ing)
}

// refusalCause is what the 503 of a refused Ingress says: the first
// error, by its reason and field (names of Portico's, never a value the
// user wrote).
func refusalCause(ref IngressRef, ds []diag.Diagnostic) string {
	var first *diag.Diagnostic
	n := 0
	for i := range ds {
		if ds[i].Severity == diag.Error {
			if first == nil {
				first = &ds[i]
			}
			n++
		}
	}
	cause := fmt.Sprintf("Ingress %s is refused", ref)
	if first != nil {
		cause += ": " + first.Reason
		if first.Field != "" {
			cause += " at " + first.Field
		}
		if n > 1 {
			cause += fmt.Sprintf(" and %d more", n-1)
		}
	}
	return cause + " (kubectl describe ingress -n " + ref.Namespace + " " + ref.Name + ")"
}

// refused returns the Backend of the refused Ingress ref: no Service, no
// endpoints; its requests get 503 saying why.
func (b *backends) refused(ref IngressRef, why string, lb annotations.LoadBalance) *Backend {
	name := ref.String() + refusedSuffix
	be := &Backend{Name: name, LoadBalance: lb, Refused: true, NoEndpoints: why}
	b.byName[name] = be
	return be
}
