package model

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// StreamService is one entry of the tcp-services or udp-services
// ConfigMap: a port Portico listens on and the Service port its
// connections (TCP) or datagrams (UDP) go to.
type StreamService struct {
	// Protocol is corev1.ProtocolTCP or corev1.ProtocolUDP.
	Protocol corev1.Protocol `json:"protocol"`
	// Port is the port Portico listens on: 1-65535, none of its own.
	Port int `json:"port"`
	// ConfigMap is the ConfigMap the entry is a key of.
	ConfigMap diag.Object `json:"configMap"`
	Service   ServiceRef  `json:"service"`
	// ServicePort is the Service's port as the entry names it: a number
	// or a port name.
	ServicePort string `json:"servicePort"`
	// DecodeProxy reads the PROXY protocol from clients (the first
	// "PROXY"); EncodeProxy sends it to the backend (the second). TCP
	// only.
	DecodeProxy bool `json:"decodeProxy,omitempty"`
	EncodeProxy bool `json:"encodeProxy,omitempty"`
	// Endpoints are the ready addresses of the Service port, sorted;
	// NoEndpoints says why there are none (connections are then closed).
	Endpoints   []Endpoint `json:"endpoints"`
	NoEndpoints string     `json:"noEndpoints,omitempty"`
}

// Name is how logs and tools name s: "tcp/5432".
func (s *StreamService) Name() string {
	return strings.ToLower(string(s.Protocol)) + "/" + strconv.Itoa(s.Port)
}

// streamKey is the grammar of a ConfigMap key: the port, in decimal.
func streamPort(key string) (int, error) {
	if key == "" || len(key) > 5 || strings.Trim(key, "0123456789") != "" {
		return 0, fmt.Errorf("key %q is not a port number", truncate(key))
	}
	n, _ := strconv.Atoi(key)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is not from 1 to 65535", n)
	}
	return n, nil
}

// parseStreamTarget parses an entry's value,
// "namespace/service:port[:PROXY][:PROXY]" (ingress-nginx's format; an
// empty field instead of PROXY leaves that direction off).
func parseStreamTarget(v string, proto corev1.Protocol) (s StreamService, warn string, err error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 4 {
		return s, "", fmt.Errorf("%q is not namespace/service:port[:PROXY][:PROXY]", truncate(v))
	}
	ns, name, ok := strings.Cut(parts[0], "/")
	if !ok || !dnsLabel.MatchString(ns) || !dnsLabel.MatchString(name) {
		return s, "", fmt.Errorf("%q is not namespace/service (two DNS labels)", truncate(parts[0]))
	}
	s.Service = ServiceRef{Namespace: ns, Name: name}
	port := parts[1]
	if n, err := strconv.Atoi(port); err == nil && strings.Trim(port, "0123456789") == "" {
		if n < 1 || n > 65535 {
			return s, "", fmt.Errorf("service port %q is not from 1 to 65535", port)
		}
		port = strconv.Itoa(n)
	} else if !portName.MatchString(port) {
		return s, "", fmt.Errorf("service port %q is not a number or a port name", truncate(port))
	}
	s.ServicePort = port
	for i, f := range parts[2:] {
		switch {
		case f == "":
		case strings.EqualFold(f, "PROXY"):
			if i == 0 {
				s.DecodeProxy = true
			} else {
				s.EncodeProxy = true
			}
		default:
			return s, "", fmt.Errorf("%q is neither PROXY nor empty", truncate(f))
		}
	}
	if proto == corev1.ProtocolUDP && (s.DecodeProxy || s.EncodeProxy) {
		s.DecodeProxy, s.EncodeProxy = false, false
		warn = "the PROXY protocol applies to TCP services only; it is not used for this UDP port"
	}
	return s, warn, nil
}

// streams parses the tcp-services and udp-services ConfigMaps into
// b.cfg.Streams. A bad entry is refused alone, with a diagnostic on its
// ConfigMap; one whose Service or port is missing is kept (its port
// closes connections until the Service appears).
func (b *builder) streams(tcp, udp *corev1.ConfigMap, reserved map[int]string) {
	b.streamConfigMap(tcp, corev1.ProtocolTCP, reserved)
	b.streamConfigMap(udp, corev1.ProtocolUDP, reserved)
	slices.SortFunc(b.cfg.Streams, func(x, y *StreamService) int {
		return cmp.Or(cmp.Compare(x.Protocol, y.Protocol), cmp.Compare(x.Port, y.Port))
	})
}

func (b *builder) streamConfigMap(cm *corev1.ConfigMap, proto corev1.Protocol, reserved map[int]string) {
	if cm == nil {
		return
	}
	obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	// A port written without leading zeros is the port's key first.
	slices.SortFunc(keys, func(x, y string) int {
		zx, zy := strings.HasPrefix(x, "0"), strings.HasPrefix(y, "0")
		if zx != zy {
			if zx {
				return 1
			}
			return -1
		}
		return cmp.Compare(x, y)
	})
	taken := map[int]string{}
	for _, k := range keys {
		field := "data[" + k + "]"
		port, err := streamPort(k)
		if err == nil && reserved[port] != "" {
			err = fmt.Errorf("port %d is Portico's %s", port, reserved[port])
		}
		if err == nil && taken[port] != "" {
			err = fmt.Errorf("port %d is already the key %q", port, taken[port])
		}
		var s StreamService
		var warn string
		if err == nil {
			s, warn, err = parseStreamTarget(cm.Data[k], proto)
		}
		if err != nil {
			b.diag(obj, diag.Errorf(field, "InvalidStreamService", "%v; the %s port is not served", err, proto))
			continue
		}
		taken[port] = k
		if warn != "" {
			b.diag(obj, diag.Warnf(field, "IneffectiveStreamOption", "%s", warn))
		}
		s.Protocol, s.Port, s.ConfigMap = proto, port, obj
		b.backends.resolveStream(&s)
		if s.NoEndpoints != "" {
			what := "connections to TCP port %d are closed"
			if proto == corev1.ProtocolUDP {
				what = "datagrams to UDP port %d get no answer"
			}
			b.diag(obj, diag.Warnf(field, "StreamServiceNoEndpoints", "%s; "+what, s.NoEndpoints, port))
		}
		b.cfg.Streams = append(b.cfg.Streams, &s)
	}
}

// resolveStream sets s's endpoints: the ready addresses of the Service
// port s names, of s's protocol.
func (b *backends) resolveStream(s *StreamService) {
	s.Endpoints, s.NoEndpoints = nil, ""
	svc := b.services[s.Service]
	switch {
	case svc == nil:
		s.NoEndpoints = fmt.Sprintf("service %s does not exist", s.Service)
		return
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		s.NoEndpoints = fmt.Sprintf("service %s is of type ExternalName, which is not supported", s.Service)
		return
	}
	n, numErr := strconv.Atoi(s.ServicePort)
	for _, sp := range svc.Spec.Ports {
		proto := cmp.Or(sp.Protocol, corev1.ProtocolTCP)
		if proto == s.Protocol && ((numErr == nil && int(sp.Port) == n) || (numErr != nil && sp.Name == s.ServicePort)) {
			s.Endpoints, s.NoEndpoints = endpoints(s.Service, sp, s.Protocol, b.slices[s.Service])
			return
		}
	}
	s.NoEndpoints = fmt.Sprintf("service %s has no %s port %s", s.Service, s.Protocol, s.ServicePort)
}
