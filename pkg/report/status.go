package report

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Status keeps status.loadBalancer.ingress of Ingresses equal to Addresses.
type Status struct {
	Client kubernetes.Interface
	// Addresses are IPs or host names, as --publish-status-address gives.
	Addresses []string
	// Timeout bounds one update.
	Timeout time.Duration
}

// want is the load-balancer status the Ingresses should carry.
func (s *Status) want() []networkingv1.IngressLoadBalancerIngress {
	out := make([]networkingv1.IngressLoadBalancerIngress, 0, len(s.Addresses))
	for _, a := range s.Addresses {
		if _, err := netip.ParseAddr(a); err == nil {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			out = append(out, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	slices.SortFunc(out, func(a, b networkingv1.IngressLoadBalancerIngress) int {
		return compareLB(a, b)
	})
	return out
}

func compareLB(a, b networkingv1.IngressLoadBalancerIngress) int {
	if a.IP != b.IP {
		if a.IP < b.IP {
			return -1
		}
		return 1
	}
	if a.Hostname < b.Hostname {
		return -1
	}
	if a.Hostname > b.Hostname {
		return 1
	}
	return 0
}

// Update sets the status of each Ingress in ings whose status differs.
// ings are cache objects; they are copied before changing.
func (s *Status) Update(ctx context.Context, ings []*networkingv1.Ingress) error {
	if len(s.Addresses) == 0 {
		return nil
	}
	return s.write(ctx, ings, s.want())
}

// Clear empties the load-balancer status of each Ingress in ings that
// has one (a controller leaving for good).
func (s *Status) Clear(ctx context.Context, ings []*networkingv1.Ingress) error {
	return s.write(ctx, ings, []networkingv1.IngressLoadBalancerIngress{})
}

func (s *Status) write(ctx context.Context, ings []*networkingv1.Ingress, want []networkingv1.IngressLoadBalancerIngress) error {
	var errs []error
	for _, ing := range ings {
		if lbEqual(ing.Status.LoadBalancer.Ingress, want) {
			continue
		}
		c := ing.DeepCopy()
		c.Status.LoadBalancer.Ingress = want
		rctx, cancel := context.WithTimeout(ctx, s.Timeout)
		_, err := s.Client.NetworkingV1().Ingresses(c.Namespace).UpdateStatus(rctx, c, metav1.UpdateOptions{FieldManager: "portico"})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("update status of Ingress %s/%s: %w", c.Namespace, c.Name, err))
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func lbEqual(got, want []networkingv1.IngressLoadBalancerIngress) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].IP != want[i].IP || got[i].Hostname != want[i].Hostname || len(got[i].Ports) != 0 {
			return false
		}
	}
	return true
}
