package migrate

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Status is what happens to one setting when Portico takes over.
type Status string

const (
	// Unchanged: Portico does what ingress-nginx did.
	Unchanged Status = "unchanged"
	// Differs: Portico acts on it, differently (the detail says how), or
	// refuses a value ingress-nginx took.
	Differs Status = "differs"
	// Unsupported: Portico ignores it (the detail says why and what to
	// use instead).
	Unsupported Status = "unsupported"
)

// rank orders statuses from harmless to worst.
func (s Status) rank() int {
	switch s {
	case Differs:
		return 1
	case Unsupported:
		return 2
	}
	return 0
}

// Item is one setting: a flag, a ConfigMap key, an annotation, a field.
type Item struct {
	Field  string `json:"field"`
	Value  string `json:"value,omitempty"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Object is one object of the installation with the worst status of its
// items (Unchanged without items).
type Object struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    Status `json:"status"`
	Items     []Item `json:"items,omitempty"`
}

func (o Object) String() string {
	return diag.Object{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}.String()
}

// Report is the result of Analyze.
type Report struct {
	Objects []Object `json:"objects"`
	// Counts of objects by status.
	Unchanged   int `json:"unchanged"`
	Differs     int `json:"differs"`
	Unsupported int `json:"unsupported"`
}

// Changes reports whether anything would behave differently under Portico.
func (r Report) Changes() bool { return r.Differs+r.Unsupported > 0 }

// Layer4 is a TCP or UDP services ConfigMap (--tcp-services-configmap,
// --udp-services-configmap).
type Layer4 struct {
	Protocol  string // "TCP" or "UDP"
	ConfigMap *corev1.ConfigMap
}

// Input is the ingress-nginx installation, read from the cluster.
type Input struct {
	// Controller is the controller's workload; Flags are its container's
	// arguments as Portico's flag parsing judged them.
	Controller diag.Object
	Flags      []Item
	// Options are those the flags give Portico's model.
	Options model.Options
	// DisableExternalName is --disable-svc-external-name.
	DisableExternalName bool
	// ConfigMap is the controller's (--configmap); nil when none.
	ConfigMap *corev1.ConfigMap
	Layer4    []Layer4
	// The cluster's objects, within --watch-namespace (and its selector).
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	// ConfigMaps are those the Ingresses' annotations name.
	ConfigMaps []*corev1.ConfigMap
	Now        time.Time
}

// Analyze reports, per object, what carries over to Portico.
func Analyze(in Input) Report {
	mi := model.Input{Ingresses: in.Ingresses, IngressClasses: in.IngressClasses, Services: in.Services,
		EndpointSlices: in.EndpointSlices, Secrets: in.Secrets, ConfigMap: in.ConfigMap, ConfigMaps: in.ConfigMaps, Options: in.Options, Now: in.Now}
	for _, l4 := range in.Layer4 {
		if l4.Protocol == "UDP" {
			mi.UDPServices = l4.ConfigMap
		} else {
			mi.TCPServices = l4.ConfigMap
		}
	}
	cfg := model.Build(mi)
	byObj := map[diag.Object][]diag.Diagnostic{}
	for _, d := range cfg.Diagnostics {
		byObj[d.Object] = append(byObj[d.Object], d)
	}
	var r Report
	r.add(objectOf(in.Controller, in.Flags))
	if cm := in.ConfigMap; cm != nil {
		obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
		r.add(objectOf(obj, configMapItems(cm, byObj[obj])))
	}
	for _, l4 := range in.Layer4 {
		obj := diag.Object{Kind: "ConfigMap", Namespace: l4.ConfigMap.Namespace, Name: l4.ConfigMap.Name}
		r.add(objectOf(obj, layer4Items(l4, byObj[obj])))
	}
	owned := map[model.IngressRef]bool{}
	for _, ref := range cfg.Ingresses {
		owned[ref] = true
	}
	ings := append([]*networkingv1.Ingress(nil), in.Ingresses...)
	sort.Slice(ings, func(i, j int) bool {
		return ings[i].Namespace+"/"+ings[i].Name < ings[j].Namespace+"/"+ings[j].Name
	})
	for _, ing := range ings {
		if !owned[model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}] {
			continue
		}
		obj := diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		r.add(objectOf(obj, ingressItems(ing, byObj[obj], in.DisableExternalName)))
	}
	return r
}

func (r *Report) add(o Object) {
	r.Objects = append(r.Objects, o)
	switch o.Status {
	case Unchanged:
		r.Unchanged++
	case Differs:
		r.Differs++
	default:
		r.Unsupported++
	}
}

func objectOf(obj diag.Object, items []Item) Object {
	o := Object{Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name, Status: Unchanged, Items: items}
	for _, it := range items {
		if it.Status.rank() > o.Status.rank() {
			o.Status = it.Status
		}
	}
	return o
}

// registry says how Portico supports an ingress-nginx annotation or
// ConfigMap key: the one place statuses come from (pkg/model's annotation
// catalog and ConfigMap key registry). known is false for a name
// ingress-nginx v1.15 does not have.
func registry(kind, name string) (s Status, detail string, known bool) {
	var st annotations.Status
	switch kind {
	case "annotation":
		e, ok := annotations.Lookup(name)
		if !ok {
			return Unchanged, "", false
		}
		st, detail = e.Status, e.Differs
	case "configmap":
		k, ok := model.LookupConfigKey(name)
		if !ok || k.Own {
			return Unchanged, "", false
		}
		st, detail = k.Status, k.Differs
	}
	switch st {
	case annotations.Full:
		return Unchanged, "", true
	case annotations.Partly:
		return Differs, detail, true
	}
	return Unsupported, detail, true
}

// fieldFindings are the model's diagnostics of one object by field.
func fieldFindings(ds []diag.Diagnostic) map[string][]diag.Diagnostic {
	out := map[string][]diag.Diagnostic{}
	for _, d := range ds {
		out[d.Field] = append(out[d.Field], d)
	}
	return out
}

// refusal is the model's Error or Warning about a field other than an
// unsupported name (which the registry covers), as an item status and
// detail: unchanged for what ingress-nginx does too (sameAsIngressNginx).
func refusal(ds []diag.Diagnostic) (Status, string, bool) {
	for _, d := range ds {
		if d.Severity == diag.Info || d.Reason == "UnsupportedAnnotation" || d.Reason == "UnsupportedOption" {
			continue
		}
		if sameAsIngressNginx[d.Reason] {
			return Unchanged, "as in ingress-nginx: " + d.Reason + ": " + d.Message, true
		}
		return Differs, "Portico refuses it: " + d.Reason + ": " + d.Message, true
	}
	return "", "", false
}

// judge is one annotation or ConfigMap key: its registry status, unless
// the model refused its value.
func judge(kind, name, field, value string, ds []diag.Diagnostic) Item {
	s, detail, known := registry(kind, name)
	it := Item{Field: field, Value: value, Status: s, Detail: detail}
	if !known {
		noun := "an annotation"
		if kind == "configmap" {
			noun = "a ConfigMap key"
		}
		it.Status, it.Detail = Unchanged, "not "+noun+" of ingress-nginx v1.15: both ignore it"
	}
	if status, why, ok := refusal(ds); ok && it.Status != Unsupported {
		it.Status, it.Detail = status, why
	}
	return it
}

func configMapItems(cm *corev1.ConfigMap, ds []diag.Diagnostic) []Item {
	byField := fieldFindings(ds)
	var items []Item
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		field := "data[" + k + "]"
		items = append(items, judge("configmap", k, field, cm.Data[k], byField[field]))
	}
	return items
}

// layer4Items judges the entries of a TCP or UDP services ConfigMap: one
// the model refuses is not served (Unsupported); one it serves with a
// Warning differs (ingress-nginx does not listen on a port whose Service
// has no endpoints; Portico listens and closes its connections).
func layer4Items(l4 Layer4, ds []diag.Diagnostic) []Item {
	byField := fieldFindings(ds)
	var items []Item
	for _, k := range slices.Sorted(maps.Keys(l4.ConfigMap.Data)) {
		field := "data[" + k + "]"
		it := Item{Field: field, Value: l4.ConfigMap.Data[k], Status: Unchanged}
		for _, d := range byField[field] {
			switch d.Severity {
			case diag.Error:
				it.Status, it.Detail = Unsupported, "Portico refuses it: "+d.Reason+": "+d.Message
			case diag.Warning:
				if it.Status == Unchanged {
					it.Status, it.Detail = Differs, d.Reason+": "+d.Message
				}
			}
		}
		items = append(items, it)
	}
	return items
}

// wholeObject is the field of a finding about a whole object (an Ingress
// Portico refuses for one of its annotations).
const wholeObject = "(whole object)"

// sameAsIngressNginx are model findings that ingress-nginx would have
// answered the same way (a missing Service or port answers 503, an
// unusable TLS Secret gives the default certificate, a snippet the
// operator has not allowed is dropped, a value outside the grammar gives
// ingress-nginx's default: AnnotationValueIgnored, a span name without
// enable-opentelemetry is ignored).
var sameAsIngressNginx = map[string]bool{"AnnotationValueIgnored": true, "BackendNotFound": true, "InvalidTLSSecret": true, "NoDefaultBackend": true,
	"SnippetsDisabled": true, "SpanNameIgnored": true}

func ingressItems(ing *networkingv1.Ingress, ds []diag.Diagnostic, disableExternalName bool) []Item {
	byField := fieldFindings(ds)
	var items []Item
	for _, k := range slices.Sorted(maps.Keys(ing.Annotations)) {
		name, ok := strings.CutPrefix(k, annotations.Prefix)
		if !ok {
			continue
		}
		field := "metadata.annotations[" + k + "]"
		items = append(items, judge("annotation", name, field, ing.Annotations[k], byField[field]))
		delete(byField, field)
	}
	// Findings about the rest of the Ingress: hosts, paths, backends, TLS.
	for _, field := range slices.Sorted(maps.Keys(byField)) {
		for _, d := range byField[field] {
			if d.Severity == diag.Info || d.Reason == "UnsupportedAnnotation" {
				continue
			}
			it := Item{Field: field, Status: Differs, Detail: "Portico: " + d.Reason + ": " + d.Message}
			if field == "" {
				it.Field = wholeObject
			}
			switch {
			case d.Reason == "BackendNotFound" && strings.Contains(d.Message, "ExternalName"):
				if disableExternalName {
					it.Status, it.Detail = Unchanged, "as in ingress-nginx with --disable-svc-external-name: "+d.Message
				} else {
					it.Detail = "ingress-nginx proxies to an ExternalName Service's name; Portico does not (requests get 503)"
				}
			case sameAsIngressNginx[d.Reason]:
				it.Status, it.Detail = Unchanged, "as in ingress-nginx: "+d.Reason+": "+d.Message
			}
			items = append(items, it)
		}
	}
	return items
}
