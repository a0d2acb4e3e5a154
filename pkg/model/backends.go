package model

import (
	"cmp"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// portName is an IANA service name, the grammar of Service port names.
var portName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$`)

// backends resolves Service references to Backends with their endpoints.
type backends struct {
	services map[ServiceRef]*corev1.Service
	slices   map[ServiceRef][]*discoveryv1.EndpointSlice
	byName   map[string]*Backend
	// problems holds, per backend, why its reference itself is broken
	// (missing Service or port); empty when only endpoints are missing.
	problems map[string]string
}

func newBackends(svcs []*corev1.Service, eps []*discoveryv1.EndpointSlice) *backends {
	b := &backends{
		services: make(map[ServiceRef]*corev1.Service, len(svcs)),
		slices:   make(map[ServiceRef][]*discoveryv1.EndpointSlice, len(eps)),
		byName:   map[string]*Backend{},
		problems: map[string]string{},
	}
	for _, s := range svcs {
		b.services[ServiceRef{s.Namespace, s.Name}] = s
	}
	for _, s := range eps {
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		ref := ServiceRef{s.Namespace, name}
		b.slices[ref] = append(b.slices[ref], s)
	}
	return b
}

// parseServiceBackend validates an Ingress backend's Service reference and
// returns its Service and the port as written (number or name).
func parseServiceBackend(ns string, sb *networkingv1.IngressServiceBackend) (ServiceRef, string, error) {
	if !dnsLabel.MatchString(sb.Name) {
		return ServiceRef{}, "", fmt.Errorf("service name %q is not a DNS label", truncate(sb.Name))
	}
	ref := ServiceRef{Namespace: ns, Name: sb.Name}
	switch {
	case sb.Port.Name != "" && sb.Port.Number != 0:
		return ref, "", fmt.Errorf("service port sets both name and number")
	case sb.Port.Name != "":
		if !portName.MatchString(sb.Port.Name) {
			return ref, "", fmt.Errorf("service port name %q is not a valid port name", truncate(sb.Port.Name))
		}
		return ref, sb.Port.Name, nil
	case sb.Port.Number > 0 && sb.Port.Number < 65536:
		return ref, strconv.Itoa(int(sb.Port.Number)), nil
	}
	return ref, "", fmt.Errorf("service port must be a number from 1 to 65535 or a port name")
}

// get returns the Backend for svc:port, resolving it on first use. lb is
// the algorithm asked for by the first (oldest) route that uses it.
func (b *backends) get(svc ServiceRef, port string, lb annotations.LoadBalance) *Backend {
	name := svc.String() + ":" + port
	if be, ok := b.byName[name]; ok {
		return be
	}
	be := &Backend{Name: name, Service: svc, Port: port, LoadBalance: lb}
	b.resolve(be)
	b.byName[name] = be
	return be
}

// viaService is the suffix of the name of a Backend that proxies to its
// Service's cluster IP (service-upstream): "ns/svc:80@service".
const viaService = "@service"

// getViaService returns the Backend for svc:port whose one endpoint is the
// Service's cluster IP and port (service-upstream): kube-proxy or a
// service mesh picks the Pod. A headless Service has no cluster IP: then
// it returns the Backend of its endpoints, and why.
func (b *backends) getViaService(svc ServiceRef, port string, lb annotations.LoadBalance) (*Backend, string) {
	s := b.services[svc]
	if s != nil && s.Spec.Type != corev1.ServiceTypeExternalName && (s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone) {
		return b.get(svc, port, lb), fmt.Sprintf("service %s is headless (no cluster IP); service-upstream does not apply, its endpoints are used", svc)
	}
	name := svc.String() + ":" + port + viaService
	if be, ok := b.byName[name]; ok {
		return be, ""
	}
	be := &Backend{Name: name, Service: svc, Port: port, LoadBalance: lb, ViaService: true}
	if sp, ok := b.service(be); ok {
		ip, err := netip.ParseAddr(s.Spec.ClusterIP)
		if err != nil || ip.Zone() != "" {
			b.broken(be, fmt.Sprintf("service %s has cluster IP %q, which is not an IP address", svc, truncate(s.Spec.ClusterIP)))
		} else {
			be.Endpoints = []Endpoint{{Address: ip.String(), Port: sp.Port}}
		}
	}
	b.byName[name] = be
	return be, ""
}

// problem reports why the named backend's Service reference is broken.
func (b *backends) problem(name string) string { return b.problems[name] }

func (b *backends) resolve(be *Backend) {
	if sp, ok := b.service(be); ok {
		be.Endpoints, be.NoEndpoints = endpoints(be.Service, sp, corev1.ProtocolTCP, b.slices[be.Service])
	}
}

// service returns the Service port be refers to; when there is none, it
// marks be broken and says why.
func (b *backends) service(be *Backend) (corev1.ServicePort, bool) {
	svc := b.services[be.Service]
	if svc == nil {
		b.broken(be, fmt.Sprintf("service %s does not exist", be.Service))
		return corev1.ServicePort{}, false
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		b.broken(be, fmt.Sprintf("service %s is of type ExternalName, which is not supported", be.Service))
		return corev1.ServicePort{}, false
	}
	sp, ok := findPort(svc, be.Port)
	if !ok {
		b.broken(be, fmt.Sprintf("service %s has no port %s", be.Service, be.Port))
	}
	return sp, ok
}

func (b *backends) broken(be *Backend, why string) {
	be.NoEndpoints, be.ServiceBroken = why, true
	b.problems[be.Name] = why
}

// findPort finds the Service port an Ingress refers to by number or name.
func findPort(svc *corev1.Service, port string) (corev1.ServicePort, bool) {
	n, err := strconv.Atoi(port)
	for _, sp := range svc.Spec.Ports {
		if (err == nil && int(sp.Port) == n) || (err != nil && sp.Name == port) {
			return sp, true
		}
	}
	return corev1.ServicePort{}, false
}

// endpoints collects the addresses of sp from the Service's EndpointSlices,
// of the ports of protocol proto.
// Ready endpoints receive traffic; when none is ready, endpoints that are
// terminating but still serving do (as kube-proxy does), so a rollout's
// last Pods drain instead of failing. The second result explains an empty
// list.
func endpoints(svc ServiceRef, sp corev1.ServicePort, proto corev1.Protocol, eps []*discoveryv1.EndpointSlice) ([]Endpoint, string) {
	var ready, draining []Endpoint
	notReady := 0
	for _, s := range eps {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(s, sp, proto)
		if !ok {
			continue
		}
		for _, ep := range s.Endpoints {
			c := ep.Conditions
			isReady := c.Ready == nil || *c.Ready
			serving := c.Serving != nil && *c.Serving
			terminating := c.Terminating != nil && *c.Terminating
			for _, a := range ep.Addresses {
				addr, err := netip.ParseAddr(a)
				if err != nil || addr.Zone() != "" {
					continue
				}
				e := Endpoint{Address: addr.String(), Port: port}
				switch {
				case isReady:
					ready = append(ready, e)
				case serving && terminating:
					draining = append(draining, e)
					notReady++
				default:
					notReady++
				}
			}
		}
	}
	out := ready
	if len(out) == 0 {
		out = draining
	}
	if len(out) == 0 {
		if notReady > 0 {
			return nil, fmt.Sprintf("service %s has no ready endpoints (%d not ready)", svc, notReady)
		}
		return nil, fmt.Sprintf("service %s has no endpoints", svc)
	}
	slices.SortFunc(out, func(a, b Endpoint) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
	return slices.Compact(out), ""
}

// slicePort finds sp's target port of protocol proto in an EndpointSlice:
// slice ports carry the Service port's name ("" for an unnamed port).
func slicePort(s *discoveryv1.EndpointSlice, sp corev1.ServicePort, proto corev1.Protocol) (int32, bool) {
	for _, p := range s.Ports {
		if p.Port == nil || *p.Port <= 0 || *p.Port > 65535 {
			continue
		}
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if name == sp.Name && pp == proto {
			return *p.Port, true
		}
	}
	return 0, false
}

// sorted returns the backends sorted by name.
func (b *backends) sorted() []*Backend {
	out := make([]*Backend, 0, len(b.byName))
	for _, be := range b.byName {
		out = append(out, be)
	}
	slices.SortFunc(out, func(x, y *Backend) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// WithEndpoints is c with the endpoints of its backends and stream
// services taken from eps
// instead: the model of c's objects after a change to EndpointSlices
// alone. services must be those c was built from. A backend whose
// endpoints did not change is c's own; c is left as it is.
func (c *Config) WithEndpoints(services []*corev1.Service, eps []*discoveryv1.EndpointSlice) *Config {
	b := newBackends(services, eps)
	out := *c
	out.Backends = make([]*Backend, len(c.Backends))
	for i, be := range c.Backends {
		out.Backends[i] = be
		if be.ViaService || be.Refused {
			continue // the Service's cluster IP, or no Service: no endpoints of their own
		}
		nb := *be
		nb.Endpoints, nb.NoEndpoints, nb.ServiceBroken = nil, "", false
		b.resolve(&nb)
		if nb.NoEndpoints != be.NoEndpoints || nb.ServiceBroken != be.ServiceBroken || !slices.Equal(nb.Endpoints, be.Endpoints) {
			out.Backends[i] = &nb
		}
	}
	out.Streams = make([]*StreamService, len(c.Streams))
	for i, s := range c.Streams {
		out.Streams[i] = s
		ns := *s
		b.resolveStream(&ns)
		if ns.NoEndpoints != s.NoEndpoints || !slices.Equal(ns.Endpoints, s.Endpoints) {
			out.Streams[i] = &ns
		}
	}
	return &out
}
