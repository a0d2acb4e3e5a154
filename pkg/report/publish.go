package report

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// PublishAddresses returns the addresses of the --publish-service Service
// for Ingress status: its load-balancer IPs and host names; for a NodePort
// Service, each node's ExternalIP, else its InternalIP (with internalIP,
// --report-node-internal-ip-address: its InternalIP, else its ExternalIP);
// for a ClusterIP Service, its external IPs, else its cluster IP. The
// result is sorted and has no duplicates; nil means nothing to publish yet.
func PublishAddresses(svc *corev1.Service, nodes []*corev1.Node, internalIP bool) []string {
	if svc == nil {
		return nil
	}
	var out []string
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer:
		for _, lb := range svc.Status.LoadBalancer.Ingress {
			if lb.IP != "" {
				out = append(out, lb.IP)
			} else if lb.Hostname != "" {
				out = append(out, lb.Hostname)
			}
		}
	case corev1.ServiceTypeNodePort:
		for _, n := range nodes {
			if a := nodeAddress(n, internalIP); a != "" {
				out = append(out, a)
			}
		}
	case corev1.ServiceTypeClusterIP, "":
		out = append(out, svc.Spec.ExternalIPs...)
		if len(out) == 0 && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			out = append(out, svc.Spec.ClusterIP)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func nodeAddress(n *corev1.Node, internalFirst bool) string {
	order := []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP}
	if internalFirst {
		order[0], order[1] = order[1], order[0]
	}
	for _, typ := range order {
		for _, a := range n.Status.Addresses {
			if a.Type == typ && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}
