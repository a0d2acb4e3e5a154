// Package modeltest builds the Kubernetes objects the tests of the model
// and of what reads it (the plan, render, diagnose) start from. Ingresses
// get a creation time from an explicit offset, so conflict order is
// explicit.
package modeltest

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// T0 is the creation time of every Ingress but those made Created later.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Option changes an Ingress being built.
type Option func(*networkingv1.Ingress)

// Ingress is ns/name of class nginx, created at T0, with opts.
func Ingress(ns, name string, opts ...Option) *networkingv1.Ingress {
	cls := "nginx"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(T0)},
		Spec:       networkingv1.IngressSpec{IngressClassName: &cls},
	}
	for _, o := range opts {
		o(ing)
	}
	return ing
}

// Created makes the Ingress minutes after T0.
func Created(minutes int) Option {
	return func(i *networkingv1.Ingress) {
		i.CreationTimestamp = metav1.NewTime(T0.Add(time.Duration(minutes) * time.Minute))
	}
}

// ClassName sets spec.ingressClassName.
func ClassName(c string) Option {
	return func(i *networkingv1.Ingress) { i.Spec.IngressClassName = &c }
}

// NoClass leaves spec.ingressClassName unset.
func NoClass() Option { return func(i *networkingv1.Ingress) { i.Spec.IngressClassName = nil } }

// Annotate sets the annotation k (its full name) to v.
func Annotate(k, v string) Option {
	return func(i *networkingv1.Ingress) {
		if i.Annotations == nil {
			i.Annotations = map[string]string{}
		}
		i.Annotations[k] = v
	}
}

// DefaultBackend sets spec.defaultBackend.
func DefaultBackend(svc string, port int32) Option {
	return func(i *networkingv1.Ingress) { i.Spec.DefaultBackend = SvcBackend(svc, port) }
}

// Rule adds a rule for host with paths (none: a rule without http).
func Rule(host string, paths ...networkingv1.HTTPIngressPath) Option {
	return func(i *networkingv1.Ingress) {
		r := networkingv1.IngressRule{Host: host}
		if paths != nil {
			r.HTTP = &networkingv1.HTTPIngressRuleValue{Paths: paths}
		}
		i.Spec.Rules = append(i.Spec.Rules, r)
	}
}

// WithTLS adds a spec.tls entry.
func WithTLS(secret string, hosts ...string) Option {
	return func(i *networkingv1.Ingress) {
		i.Spec.TLS = append(i.Spec.TLS, networkingv1.IngressTLS{Hosts: hosts, SecretName: secret})
	}
}

// Path is an Ingress path to a Service port by number.
func Path(p string, pt networkingv1.PathType, svc string, port int32) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: *SvcBackend(svc, port)}
}

// NamedPortPath is an Ingress path to a Service port by name.
func NamedPortPath(p string, pt networkingv1.PathType, svc, port string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: port}}}}
}

// SvcBackend is an Ingress backend of a Service port by number.
func SvcBackend(svc string, port int32) *networkingv1.IngressBackend {
	return &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

// The path types.
const (
	Exact  = networkingv1.PathTypeExact
	Prefix = networkingv1.PathTypePrefix
	Impl   = networkingv1.PathTypeImplementationSpecific
)

// Class is an IngressClass; isDefault marks it the cluster's default.
func Class(name, controller string, isDefault bool) *networkingv1.IngressClass {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	if isDefault {
		ic.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
	}
	return ic
}

// OurClass is the IngressClass nginx of ingress-nginx's controller class.
func OurClass() *networkingv1.IngressClass { return Class("nginx", "k8s.io/ingress-nginx", false) }

// Service has one port per ServicePort.
func Service(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Ports: ports}}
}

// WithClusterIP sets s's cluster IP.
func WithClusterIP(s *corev1.Service, ip string) *corev1.Service {
	s.Spec.ClusterIP = ip
	return s
}

// SvcPort is a TCP Service port.
func SvcPort(name string, port, target int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromInt32(target)}
}

// EndpointOption changes an endpoint being built.
type EndpointOption func(*discoveryv1.Endpoint)

// NotReady marks the endpoint not ready.
func NotReady() EndpointOption {
	return func(e *discoveryv1.Endpoint) { f := false; e.Conditions.Ready = &f }
}

// TerminatingServing marks the endpoint terminating but still serving.
func TerminatingServing() EndpointOption {
	return func(e *discoveryv1.Endpoint) {
		f, t := false, true
		e.Conditions = discoveryv1.EndpointConditions{Ready: &f, Serving: &t, Terminating: &t}
	}
}

// Endpoint is a ready endpoint at addr.
func Endpoint(addr string, opts ...EndpointOption) discoveryv1.Endpoint {
	t := true
	e := discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: &t}}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// Slice is an IPv4 EndpointSlice of Service ns/svc with one port.
func Slice(ns, svc, name, portName string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		Endpoints:   eps,
	}
}

// ConfigMap is the controller's ConfigMap ingress-nginx/portico.
func ConfigMap(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "portico"}, Data: data}
}

// LabObjects are the seed's lab: api-service and frontend-service, port
// 80 to 5678, with ready endpoints.
func LabObjects() ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	return []*corev1.Service{
			Service("lab", "api-service", SvcPort("", 80, 5678)),
			Service("lab", "frontend-service", SvcPort("", 80, 5678)),
		}, []*discoveryv1.EndpointSlice{
			Slice("lab", "api-service", "api-1", "", 5678, Endpoint("198.18.0.3"), Endpoint("198.18.0.2")),
			Slice("lab", "frontend-service", "fe-1", "", 5678, Endpoint("198.18.0.4")),
		}
}
