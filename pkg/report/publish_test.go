package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestPublishAddresses(t *testing.T) {
	node := func(addrs ...corev1.NodeAddress) *corev1.Node {
		return &corev1.Node{Status: corev1.NodeStatus{Addresses: addrs}}
	}
	ext := func(a string) corev1.NodeAddress { return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: a} }
	internal := func(a string) corev1.NodeAddress { return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a} }
	host := corev1.NodeAddress{Type: corev1.NodeHostName, Address: "worker-1"}
	nodes := []*corev1.Node{
		node(internal("10.0.1.10"), ext("52.78.123.45"), host),
		node(host, internal("10.0.1.11")),
		node(host),
		node(internal("10.0.1.11")),
	}
	svc := func(typ corev1.ServiceType, f func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{Spec: corev1.ServiceSpec{Type: typ, ClusterIP: "10.96.0.200"}}
		if f != nil {
			f(s)
		}
		return s
	}
	tests := []struct {
		name     string
		svc      *corev1.Service
		internal bool
		want     []string
	}{
		{"no Service", nil, false, nil},
		{"LoadBalancer without an address yet", svc(corev1.ServiceTypeLoadBalancer, nil), false, nil},
		{"LoadBalancer IP and host name", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "nlb.elb.amazonaws.com"}, {IP: "203.0.113.5"}, {IP: "203.0.113.5"}}
		}), false, []string{"203.0.113.5", "nlb.elb.amazonaws.com"}},
		{"NodePort: ExternalIP, else InternalIP, per node", svc(corev1.ServiceTypeNodePort, nil), false, []string{"10.0.1.11", "52.78.123.45"}},
		{"NodePort with --report-node-internal-ip-address: InternalIP", svc(corev1.ServiceTypeNodePort, nil), true, []string{"10.0.1.10", "10.0.1.11"}},
		{"ClusterIP", svc(corev1.ServiceTypeClusterIP, nil), false, []string{"10.96.0.200"}},
		{"ClusterIP with external IPs", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"198.51.100.7"} }),
			false, []string{"198.51.100.7"}},
		{"ExternalName", svc(corev1.ServiceTypeExternalName, nil), false, nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, PublishAddresses(tc.svc, nodes, tc.internal)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
