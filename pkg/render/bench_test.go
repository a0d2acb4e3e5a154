package render

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// benchInput has n Ingresses, each with its own host, 3 Prefix paths, a
// Service and 3 ready endpoints.
func benchInput(n int) model.Input {
	in := model.Input{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}},
		Options:        model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
	}
	cls, pt, port, ready := "nginx", networkingv1.PathTypePrefix, int32(8080), true
	for i := range n {
		ns, name := fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("app-%d", i)
		var paths []networkingv1.HTTPIngressPath
		for _, p := range []string{"/", "/api", "/static"} {
			paths = append(paths, networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}})
		}
		in.Ingresses = append(in.Ingresses, &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: networkingv1.IngressSpec{IngressClassName: &cls, Rules: []networkingv1.IngressRule{{
				Host: name + ".example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}}},
		})
		in.Services = append(in.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: name}}, AddressType: discoveryv1.AddressTypeIPv4,
			Ports: []discoveryv1.EndpointPort{{Port: &port}}}
		for j := range 3 {
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("198.18.%d.%d", i%250, j+1)},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		}
		in.EndpointSlices = append(in.EndpointSlices, es)
	}
	return in
}

// BenchmarkBuildRender is one model build plus render of nginx.conf.
func BenchmarkBuildRender(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			in := benchInput(n)
			b.ReportAllocs()
			var size int
			for b.Loop() {
				p, err := plan.Make(model.Build(in), nil, testOptions)
				if err != nil {
					b.Fatal(err)
				}
				conf, _, err := Render(p)
				if err != nil {
					b.Fatal(err)
				}
				size = len(conf)
			}
			b.ReportMetric(float64(size)/1024, "KiB-conf")
		})
	}
}

// BenchmarkRoutedHosts renders the routed-hosts file of n routed hosts,
// which a sync that changes routes writes: whole (the first sync, or a
// change to nginx.conf's router locations) and again, as for a change to
// other hosts than these (each keeps its text).
func BenchmarkRoutedHosts(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		p, err := plan.Make(model.Build(benchInput(n)), nil, testOptions)
		if err != nil {
			b.Fatal(err)
		}
		for _, again := range []bool{false, true} {
			b.Run(fmt.Sprintf("ingresses=%d/again=%v", n, again), func(b *testing.B) {
				var f RoutedHostsFile
				if _, err := f.Render(p); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				var size int
				for b.Loop() {
					if !again {
						f = RoutedHostsFile{}
					}
					out, err := f.Render(p)
					if err != nil {
						b.Fatal(err)
					}
					size = len(out)
				}
				b.ReportMetric(float64(size)/1024, "KiB-file")
			})
		}
	}
}
