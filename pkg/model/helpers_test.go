package model

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Builders for test objects. Ingresses get a creation time from their age
// argument so conflict order is explicit.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type ingOpt func(*networkingv1.Ingress)

func ingress(ns, name string, opts ...ingOpt) *networkingv1.Ingress {
	cls := "nginx"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(t0)},
		Spec:       networkingv1.IngressSpec{IngressClassName: &cls},
	}
	for _, o := range opts {
		o(ing)
	}
	return ing
}

func created(minutes int) ingOpt {
	return func(i *networkingv1.Ingress) {
		i.CreationTimestamp = metav1.NewTime(t0.Add(time.Duration(minutes) * time.Minute))
	}
}

func className(c string) ingOpt {
	return func(i *networkingv1.Ingress) { i.Spec.IngressClassName = &c }
}

func noClass() ingOpt { return func(i *networkingv1.Ingress) { i.Spec.IngressClassName = nil } }

func annotate(k, v string) ingOpt {
	return func(i *networkingv1.Ingress) {
		if i.Annotations == nil {
			i.Annotations = map[string]string{}
		}
		i.Annotations[k] = v
	}
}

func defaultBackend(svc string, port int32) ingOpt {
	return func(i *networkingv1.Ingress) { i.Spec.DefaultBackend = svcBackend(svc, port) }
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) ingOpt {
	return func(i *networkingv1.Ingress) {
		r := networkingv1.IngressRule{Host: host}
		if paths != nil {
			r.HTTP = &networkingv1.HTTPIngressRuleValue{Paths: paths}
		}
		i.Spec.Rules = append(i.Spec.Rules, r)
	}
}

func path(p string, pt networkingv1.PathType, svc string, port int32) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: *svcBackend(svc, port)}
}

func namedPortPath(p string, pt networkingv1.PathType, svc, port string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: port}}}}
}

func svcBackend(svc string, port int32) *networkingv1.IngressBackend {
	return &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

const (
	exact  = networkingv1.PathTypeExact
	prefix = networkingv1.PathTypePrefix
	impl   = networkingv1.PathTypeImplementationSpecific
)

func class(name, controller string, isDefault bool) *networkingv1.IngressClass {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	if isDefault {
		ic.Annotations = map[string]string{defaultClassAnnotation: "true"}
	}
	return ic
}

// service has one port per (name, port, targetPort) triple.
func service(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Ports: ports}}
}

func withClusterIP(s *corev1.Service, ip string) *corev1.Service {
	s.Spec.ClusterIP = ip
	return s
}

func svcPort(name string, port, target int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromInt32(target)}
}

type epOpt func(*discoveryv1.Endpoint)

func notReady() epOpt {
	return func(e *discoveryv1.Endpoint) { f := false; e.Conditions.Ready = &f }
}

func terminatingServing() epOpt {
	return func(e *discoveryv1.Endpoint) {
		f, t := false, true
		e.Conditions = discoveryv1.EndpointConditions{Ready: &f, Serving: &t, Terminating: &t}
	}
}

func ep(addr string, opts ...epOpt) discoveryv1.Endpoint {
	t := true
	e := discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: &t}}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func slice(ns, svc, name, portName string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		Endpoints:   eps,
	}
}

var defaultOptions = Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"}

func ourClass() *networkingv1.IngressClass { return class("nginx", "k8s.io/ingress-nginx", false) }

// catchAll is the catch-all server with only its 404 root.
func catchAll(locs ...*Location) *Server {
	if locs == nil {
		locs = []*Location{{Modifier: ModPrefix, Path: "/"}}
	}
	return &Server{Host: "", ServerName: "_", Default: true, Locations: locs}
}

func loc(mod Modifier, p, backend, ingNS, ingName string) *Location {
	l := &Location{Modifier: mod, Path: p, Backend: backend, Ingress: IngressRef{ingNS, ingName}}
	if ingName != "" {
		// The Ingress path: a Prefix path's "/p/" location came from "/p".
		l.IngressPath = p
		if mod == ModPrefix && len(p) > 1 {
			l.IngressPath = strings.TrimSuffix(p, "/")
		}
	}
	return l
}

func metaNS(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

// parseConfigMap parses cm with no last good values: a bad value is
// reported and the default is used in its place.
func parseConfigMap(cm *corev1.ConfigMap) (Global, []diag.Diagnostic) {
	g, _, ds := parseConfigMapKeeping(cm, nil)
	return g, ds
}
