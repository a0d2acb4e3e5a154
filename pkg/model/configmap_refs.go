package model

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// ConfigMaps that annotations name (custom-headers,
// fastcgi-params-configmap, auth-proxy-set-headers): only the Ingress's
// own namespace, as for Secrets.

// configMap returns ConfigMap ref, named by an Ingress of namespace ns,
// and records that the configuration reads it (Config.ConfigMapRefs); or
// why it cannot.
func (b *builder) configMap(ns string, ref annotations.ObjectRef) (*corev1.ConfigMap, error) {
	if ref.Namespace != "" && ref.Namespace != ns {
		return nil, fmt.Errorf("ConfigMap %s/%s is not in the Ingress's namespace", ref.Namespace, ref.Name)
	}
	name := ns + "/" + ref.Name
	b.configMapRefs[name] = true
	cm := b.configMaps[name]
	if cm == nil {
		return nil, fmt.Errorf("ConfigMap %s does not exist", name)
	}
	return cm, nil
}

// ownConfigMap returns the data of the ConfigMap ref of ing names, sorted
// by key, or why it cannot.
func (b *builder) ownConfigMap(ing *networkingv1.Ingress, ref annotations.ObjectRef) ([]KeyValue, error) {
	cm, err := b.configMap(ing.Namespace, ref)
	if err != nil {
		return nil, err
	}
	out := make([]KeyValue, 0, len(cm.Data))
	for k, v := range cm.Data {
		out = append(out, KeyValue{Name: k, Value: v})
	}
	slices.SortFunc(out, func(x, y KeyValue) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

// KeyValue is a name and a value that passed their grammars.
type KeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// responseHeaders reads the custom-headers ConfigMap of ing: every name in
// the ConfigMap's global-allowed-response-headers, every value of the
// annotation's grammar.
func (b *builder) responseHeaders(ing *networkingv1.Ingress, ref annotations.ObjectRef) ([]KeyValue, []diag.Diagnostic) {
	fail := func(format string, args ...any) ([]KeyValue, []diag.Diagnostic) {
		return nil, []diag.Diagnostic{diag.Errorf("metadata.annotations["+annotations.Prefix+"custom-headers]", "InvalidCustomHeaders",
			"%s; the Ingress is not served", fmt.Sprintf(format, args...))}
	}
	hs, err := b.ownConfigMap(ing, ref)
	if err != nil {
		return fail("%v", err)
	}
	for _, h := range hs {
		switch {
		case !annotations.ResponseHeaderName(h.Name):
			return fail("header name %q is not letters, digits, - and _", truncate(h.Name))
		case !slices.Contains(b.cfg.Global.AllowedResponseHeaders, h.Name):
			return fail("header %s is not in the controller ConfigMap's global-allowed-response-headers", h.Name)
		case !annotations.ResponseHeaderValue(h.Value):
			return fail("the value of header %s has a character ingress-nginx does not allow (control characters among them) or is empty or longer than 4096", h.Name)
		}
	}
	return hs, nil
}

// fastCGIParams reads the fastcgi-params-configmap ConfigMap of ing.
func (b *builder) fastCGIParams(ing *networkingv1.Ingress, ref annotations.ObjectRef) ([]KeyValue, []diag.Diagnostic) {
	fail := func(format string, args ...any) ([]KeyValue, []diag.Diagnostic) {
		return nil, []diag.Diagnostic{diag.Errorf("metadata.annotations["+annotations.Prefix+"fastcgi-params-configmap]", "InvalidFastCGIParams",
			"%s; the Ingress is not served", fmt.Sprintf(format, args...))}
	}
	ps, err := b.ownConfigMap(ing, ref)
	if err != nil {
		return fail("%v", err)
	}
	for _, p := range ps {
		if !annotations.FastCGIParamName(p.Name) {
			return fail("parameter name %q is not letters, digits and ._-", truncate(p.Name))
		}
		if why := checkFastCGIValue(p.Value); why != "" {
			return fail("the value of parameter %s: %s", p.Name, why)
		}
	}
	return ps, nil
}
