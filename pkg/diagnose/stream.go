package diagnose

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// HopConfigMap is the entry of the tcp-services or udp-services ConfigMap
// that serves a port (DiagnoseStream).
const HopConfigMap = "configmap"

// ParseStreamTarget reads "tcp/PORT" or "udp/PORT", the argument that
// names a TCP or UDP service to DiagnoseStream; ok is false for anything
// else (a host).
func ParseStreamTarget(arg string) (proto corev1.Protocol, port int, ok bool) {
	p, n, found := strings.Cut(arg, "/")
	switch strings.ToLower(p) {
	case "tcp":
		proto = corev1.ProtocolTCP
	case "udp":
		proto = corev1.ProtocolUDP
	default:
		return "", 0, false
	}
	port, err := strconv.Atoi(n)
	if !found || err != nil || port < 1 || port > 65535 {
		return "", 0, false
	}
	return proto, port, true
}

// DiagnoseStream walks every hop of a connection (TCP) or datagram (UDP)
// to port: the ConfigMap entry, the Service and port it names, its
// endpoints, and what the running controller serves there.
func DiagnoseStream(s *Snapshot, proto corev1.Protocol, port int) Report {
	cfg := s.build()
	d := &diagnosis{s: s, cfg: cfg}
	name := strings.ToLower(string(proto)) + "/" + strconv.Itoa(port)
	d.streamName = name
	for _, st := range cfg.Streams {
		if st.Protocol == proto && st.Port == port {
			d.stream = st
		}
	}
	switch {
	case !d.add(d.streamEntry(proto, port)):
		d.skip(HopService, HopEndpoints)
	case !d.add(d.streamService()):
		d.skip(HopEndpoints)
	default:
		d.add(d.endpoints())
	}
	d.add(d.nginx())
	r := Report{Host: name, Hops: d.hops}
	for _, h := range d.hops {
		if h.State == Fail {
			r.Broken, r.Fix = h.Name, h.Fix
			break
		}
	}
	return r
}

// streamConfigMap is the snapshot's ConfigMap of proto's services.
func (s *Snapshot) streamConfigMap(proto corev1.Protocol) *corev1.ConfigMap {
	if proto == corev1.ProtocolUDP {
		return s.UDPServices
	}
	return s.TCPServices
}

// streamEntry is the ConfigMap hop: the entry that serves port, or why
// none does.
func (d *diagnosis) streamEntry(proto corev1.Protocol, port int) Hop {
	h := Hop{Name: HopConfigMap}
	flag := "--" + strings.ToLower(string(proto)) + "-services-configmap"
	cm := d.s.streamConfigMap(proto)
	if cm == nil {
		h.State = Fail
		h.Summary = fmt.Sprintf("the controller has no %s services ConfigMap (or it does not exist): nothing listens on %s port %d", proto, proto, port)
		h.Fix = fmt.Sprintf("start the controller with %s=NAMESPACE/NAME and create that ConfigMap with the entry %d: NAMESPACE/SERVICE:PORT (docs/layer4.md)", flag, port)
		return h
	}
	obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	if st := d.stream; st != nil {
		h.State = OK
		h.Summary = fmt.Sprintf("ConfigMap %s/%s: %d → Service %s port %s", cm.Namespace, cm.Name, port, st.Service, st.ServicePort)
		if st.DecodeProxy {
			h.Details = append(h.Details, "clients must send the PROXY protocol (the first PROXY): its header names the client")
		}
		if st.EncodeProxy {
			h.Details = append(h.Details, "the backend receives the PROXY protocol (the second PROXY): it must expect it")
		}
	}
	// The diagnostics of the entries for port: its own key, or one with
	// leading zeros.
	for _, x := range d.cfg.Diagnostics {
		key, ok := strings.CutPrefix(x.Field, "data[")
		key, ok2 := strings.CutSuffix(key, "]")
		if x.Object != obj || !ok || !ok2 {
			continue
		}
		if n, err := strconv.Atoi(key); err != nil || n != port {
			continue
		}
		if x.Reason == "StreamServiceNoEndpoints" {
			continue // the endpoints hop says it
		}
		h.Details = append(h.Details, diagText(x))
		if x.Severity == diag.Error && d.stream == nil {
			h.State = Fail
			h.Summary = fmt.Sprintf("ConfigMap %s/%s: the entry for port %d is refused: %s", cm.Namespace, cm.Name, port, x.Message)
			h.Fix = "write the entry as PORT: NAMESPACE/SERVICE:PORT[:PROXY][:PROXY] on a port that is not the controller's (kubectl describe configmap shows the same Warning Event)"
		}
	}
	if h.State == "" {
		var ports []string
		for k := range cm.Data {
			ports = append(ports, k)
		}
		slices.Sort(ports)
		h.State = Fail
		h.Summary = fmt.Sprintf("ConfigMap %s/%s has no entry for port %d (its keys: %s)", cm.Namespace, cm.Name, port, cmp.Or(strings.Join(ports, ", "), "none"))
		h.Fix = fmt.Sprintf("add the entry \"%d\": NAMESPACE/SERVICE:PORT to ConfigMap %s/%s", port, cm.Namespace, cm.Name)
	}
	return h
}

// streamService is the Service hop of a stream service: the Service
// exists and has a port of the entry's protocol with the number or name
// the entry gives.
func (d *diagnosis) streamService() Hop {
	h := Hop{Name: HopService}
	st := d.stream
	for _, svc := range d.s.Services {
		if svc.Namespace == st.Service.Namespace && svc.Name == st.Service.Name {
			d.svc = svc
		}
	}
	closed := ": " + dropped(st)
	switch {
	case d.svc == nil:
		h.State, h.Summary = Fail, fmt.Sprintf("Service %s does not exist%s", st.Service, closed)
		h.Fix = fmt.Sprintf("create Service %s, or point the ConfigMap entry at an existing one (kubectl get svc -n %s)", st.Service, st.Service.Namespace)
		return h
	case d.svc.Spec.Type == corev1.ServiceTypeExternalName:
		h.State, h.Summary = Fail, fmt.Sprintf("Service %s is of type ExternalName, which Portico does not proxy to", st.Service)
		h.Fix = "use a Service with a selector or EndpointSlices"
		return h
	}
	var ports []string
	found := false
	n, numErr := strconv.Atoi(st.ServicePort)
	for _, sp := range d.svc.Spec.Ports {
		proto := cmp.Or(sp.Protocol, corev1.ProtocolTCP)
		ports = append(ports, portText(sp)+"/"+string(proto))
		if proto == st.Protocol && ((numErr == nil && int(sp.Port) == n) || (numErr != nil && sp.Name == st.ServicePort)) {
			d.sp, found = sp, true
		}
	}
	if !found {
		h.State = Fail
		h.Summary = fmt.Sprintf("Service %s has no %s port %s (its ports: %s)%s", st.Service, st.Protocol, st.ServicePort, strings.Join(ports, ", "), closed)
		h.Fix = fmt.Sprintf("name one of the Service's %s ports in the ConfigMap entry", st.Protocol)
		return h
	}
	d.be = &model.Backend{Service: st.Service, Port: st.ServicePort, Endpoints: st.Endpoints}
	h.State, h.Summary = OK, fmt.Sprintf("Service %s port %s/%s", st.Service, portText(d.sp), st.Protocol)
	return h
}

// streamDrift compares what the running controller serves on the
// diagnosed port (its model, m) with what the API objects say.
func (d *diagnosis) streamDrift(m *model.Config) (problem, detail string) {
	var running *model.StreamService
	for _, st := range m.Streams {
		if d.stream != nil && st.Protocol == d.stream.Protocol && st.Port == d.stream.Port {
			running = st
		}
	}
	switch {
	case d.stream == nil && running == nil:
		return "", ""
	case running == nil:
		return fmt.Sprintf("the running controller does not serve %s", d.streamName), ""
	case d.stream == nil:
		return fmt.Sprintf("the running controller still serves %s, which the API objects no longer ask for", d.streamName), ""
	case running.Service != d.stream.Service || running.ServicePort != d.stream.ServicePort:
		return fmt.Sprintf("the running controller sends %s to Service %s port %s, the API objects say %s port %s",
			d.streamName, running.Service, running.ServicePort, d.stream.Service, d.stream.ServicePort), ""
	case !slices.Equal(running.Endpoints, d.stream.Endpoints):
		return fmt.Sprintf("the running controller holds %d endpoints for %s, the API says %d", len(running.Endpoints), d.streamName, len(d.stream.Endpoints)), ""
	}
	return "", fmt.Sprintf("%s: nginx picks one of %d endpoints per session (%s)", d.streamName, len(running.Endpoints), endpointList(running.Endpoints))
}

// endpointList prints up to 4 endpoints, "address:port".
func endpointList(eps []model.Endpoint) string {
	var out []string
	for i, e := range eps {
		if i == 4 {
			out = append(out, fmt.Sprintf("and %d more", len(eps)-4))
			break
		}
		if a, err := netip.ParseAddr(e.Address); err == nil {
			out = append(out, netip.AddrPortFrom(a, uint16(e.Port)).String())
		}
	}
	return cmp.Or(strings.Join(out, ", "), "none")
}

// passthroughTLS is the TLS hop of a host of an ssl-passthrough Ingress:
// nginx reads the server name on the HTTPS port and passes the
// connection on untouched.
func (d *diagnosis) passthroughTLS() Hop {
	h := Hop{Name: HopTLS, State: OK}
	h.Summary = fmt.Sprintf("ssl-passthrough: TLS connections naming %s (SNI) on the HTTPS port go untouched to backend %s; its own certificate answers, not a Secret of the Ingress",
		d.srv.Host, d.srv.Passthrough)
	h.Details = append(h.Details, "plain HTTP requests to the host are proxied to the backend over HTTPS",
		"clients that send no SNI, or another name, reach Portico's HTTPS server instead")
	if d.srv.TLS != nil {
		h.Details = append(h.Details, "the host's spec.tls Secret is not used for its HTTPS connections")
	}
	return h
}

// dropped says what becomes of st's traffic while it has no endpoint.
func dropped(st *model.StreamService) string {
	if st.Protocol == corev1.ProtocolUDP {
		return fmt.Sprintf("UDP datagrams to port %d get no answer", st.Port)
	}
	return fmt.Sprintf("TCP connections to port %d are closed", st.Port)
}
