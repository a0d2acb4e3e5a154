package diagnose

import (
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/portico-ingress/portico/pkg/model"
)

// streamSnapshot has Service lab/db with TCP port "pg" 5432 and UDP port
// "dns" 53, one ready endpoint 10.0.0.7, and the ConfigMaps lab/tcp and
// lab/udp with the given entries.
func streamSnapshot(tcp, udp map[string]string) *Snapshot {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "db"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "pg", Port: 5432, TargetPort: intstr.FromInt32(5432), Protocol: corev1.ProtocolTCP},
		{Name: "dns", Port: 53, TargetPort: intstr.FromInt32(5353), Protocol: corev1.ProtocolUDP}}}}
	es := slice("db", "pg", endpoint{addr: "10.0.0.7", pod: "db-0", ready: true})
	dns, udpProto, p53 := "dns", corev1.ProtocolUDP, int32(5353)
	es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &dns, Port: &p53, Protocol: &udpProto})
	s := &Snapshot{Input: model.Input{Services: []*corev1.Service{svc}, EndpointSlices: []*discoveryv1.EndpointSlice{es}, Options: opts, Now: now},
		Pods: []*corev1.Pod{pod("db-0", corev1.ConditionTrue)}}
	if tcp != nil {
		s.TCPServices = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "tcp"}, Data: tcp}
	}
	if udp != nil {
		s.UDPServices = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "udp"}, Data: udp}
	}
	return s
}

// running is a controller whose model is built from s.
func running(s *Snapshot) *Controller {
	o := s.options()
	return &Controller{Status: &Status{Synced: true, Options: &o, Model: s.build(), Nginx: NginxStats{Reloads: 1}}}
}

func TestDiagnoseStream(t *testing.T) {
	reserved := opts
	reserved.ReservedPorts = map[int]string{80: "HTTP port"}
	tests := []struct {
		name   string
		snap   func() *Snapshot
		target string
		states string
		text   []string
	}{{
		name: "a TCP service the controller serves",
		snap: func() *Snapshot {
			s := streamSnapshot(map[string]string{"5432": "lab/db:5432::PROXY"}, nil)
			s.Controller = running(s)
			return s
		},
		target: "tcp/5432",
		states: "configmap:ok service:ok endpoints:ok nginx:ok",
		text: []string{"request tcp/5432", "ConfigMap lab/tcp: 5432 → Service lab/db port 5432", "the backend receives the PROXY protocol",
			"Service lab/db port pg/5432→5432/TCP", "1 ready, 0 not ready", "tcp/5432: nginx picks one of 1 endpoints per session (10.0.0.7:5678)"},
	}, {
		name: "a UDP service by port name",
		snap: func() *Snapshot {
			s := streamSnapshot(nil, map[string]string{"53": "lab/db:dns"})
			s.Controller = running(s)
			return s
		},
		target: "UDP/53",
		states: "configmap:ok service:ok endpoints:ok nginx:ok",
		text:   []string{"udp/53: nginx picks one of 1 endpoints per session (10.0.0.7:5353)"},
	}, {
		name:   "no ConfigMap",
		snap:   func() *Snapshot { return streamSnapshot(nil, nil) },
		target: "tcp/5432",
		states: "configmap:fail service:skip endpoints:skip nginx:skip",
		text:   []string{"start the controller with --tcp-services-configmap=NAMESPACE/NAME"},
	}, {
		name: "no entry for the port",
		snap: func() *Snapshot {
			return streamSnapshot(map[string]string{"5432": "lab/db:5432", "6379": "lab/db:5432"}, nil)
		},
		target: "tcp/9000",
		states: "configmap:fail service:skip endpoints:skip nginx:skip",
		text:   []string{"ConfigMap lab/tcp has no entry for port 9000 (its keys: 5432, 6379)"},
	}, {
		name: "an entry refused: the controller's own port",
		snap: func() *Snapshot {
			s := streamSnapshot(map[string]string{"80": "lab/db:5432", "5432": "lab/db:5432"}, nil)
			s.Options = reserved
			return s
		},
		target: "tcp/80",
		states: "configmap:fail service:skip endpoints:skip nginx:skip",
		text:   []string{"the entry for port 80 is refused: port 80 is Portico's HTTP port", "InvalidStreamService: data[80]"},
	}, {
		name:   "an entry refused: bad value",
		snap:   func() *Snapshot { return streamSnapshot(map[string]string{"5432": "lab/db:5432:PROXI"}, nil) },
		target: "tcp/5432",
		states: "configmap:fail service:skip endpoints:skip nginx:skip",
		text:   []string{`"PROXI" is neither PROXY nor empty`},
	}, {
		name:   "the Service has no UDP port of that number",
		snap:   func() *Snapshot { return streamSnapshot(nil, map[string]string{"53": "lab/db:5432"}) },
		target: "udp/53",
		states: "configmap:ok service:fail endpoints:skip nginx:skip",
		text:   []string{"Service lab/db has no UDP port 5432 (its ports: pg/5432→5432/TCP, dns/53→5353/UDP): UDP datagrams to port 53 get no answer"},
	}, {
		name: "no ready endpoint",
		snap: func() *Snapshot {
			s := streamSnapshot(map[string]string{"5432": "lab/db:pg"}, nil)
			for i := range s.EndpointSlices[0].Endpoints {
				f := false
				s.EndpointSlices[0].Endpoints[i].Conditions.Ready = &f
			}
			s.Pods = []*corev1.Pod{pod("db-0", corev1.ConditionFalse)}
			return s
		},
		target: "tcp/5432",
		states: "configmap:ok service:ok endpoints:fail nginx:skip",
		text:   []string{"0 ready, 1 not ready, 0 terminating: TCP connections to port 5432 are closed", "Pod lab/db-0 (10.0.0.7): phase Running, Ready=False"},
	}, {
		name: "the running controller has not caught up",
		snap: func() *Snapshot {
			old := streamSnapshot(map[string]string{"5432": "lab/db:5432"}, nil)
			old.EndpointSlices[0].Endpoints = nil
			s := streamSnapshot(map[string]string{"5432": "lab/db:5432"}, nil)
			s.Controller = running(old)
			return s
		},
		target: "tcp/5432",
		states: "configmap:ok service:ok endpoints:ok nginx:fail",
		text:   []string{"the running controller holds 0 endpoints for tcp/5432, the API says 1"},
	}, {
		name: "the running controller does not serve the port",
		snap: func() *Snapshot {
			s := streamSnapshot(map[string]string{"5432": "lab/db:5432"}, nil)
			s.Controller = running(streamSnapshot(nil, nil))
			return s
		},
		target: "tcp/5432",
		states: "configmap:ok service:ok endpoints:ok nginx:fail",
		text:   []string{"the running controller does not serve tcp/5432"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proto, port, ok := ParseStreamTarget(tt.target)
			if !ok {
				t.Fatalf("ParseStreamTarget(%q) refused", tt.target)
			}
			checkReport(t, DiagnoseStream(tt.snap(), proto, port), tt.states, tt.text)
		})
	}
}

func TestParseStreamTarget(t *testing.T) {
	for _, arg := range []string{"app.example.com", "tcp/", "tcp/0", "tcp/65536", "udp/x", "sctp/5", "tcp/5/x"} {
		if _, _, ok := ParseStreamTarget(arg); ok {
			t.Errorf("ParseStreamTarget(%q) took it as a stream service", arg)
		}
	}
}

// A host of an ssl-passthrough Ingress: the TLS hop says its connections
// go to the backend untouched; a controller without the passthrough of
// the host fails the nginx hop.
func TestDiagnosePassthrough(t *testing.T) {
	snap := func(passthroughOn bool) *Snapshot {
		ing := ingress("argocd", "nginx", "cd.example.com", "/", "argocd", num(80), 1)
		ing.Annotations = map[string]string{"nginx.ingress.kubernetes.io/ssl-passthrough": "true"}
		o := opts
		o.SSLPassthrough = passthroughOn
		return &Snapshot{Input: model.Input{
			Ingresses:      []*networkingv1.Ingress{ing},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       []*corev1.Service{service("argocd", "")},
			EndpointSlices: []*discoveryv1.EndpointSlice{slice("argocd", "", endpoint{addr: "10.0.0.9", pod: "argocd-0", ready: true})},
			Options:        o, Now: now,
		}, Pods: []*corev1.Pod{pod("argocd-0", corev1.ConditionTrue)}}
	}
	write := func(r Report) string {
		var buf bytes.Buffer
		if err := Write(&buf, r, false); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	s := snap(true)
	s.Controller = running(s)
	s.Controller.Lua = lua(s, "lab/argocd:80").Lua
	out := write(Diagnose(s, "cd.example.com", "/"))
	for _, want := range []string{"✓  tls", "ssl-passthrough: TLS connections naming cd.example.com (SNI) on the HTTPS port go untouched to backend lab/argocd:80",
		"plain HTTP requests to the host are proxied to the backend over HTTPS", "no hop is broken"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// The controller runs without --enable-ssl-passthrough: the host's
	// TLS ends at Portico, and the ingress hop says why.
	s = snap(false)
	out = write(Diagnose(s, "cd.example.com", "/"))
	if strings.Contains(out, "ssl-passthrough: TLS connections") || !strings.Contains(out, "SSLPassthroughIgnored") {
		t.Errorf("without the flag:\n%s", out)
	}

	// The API asks for passthrough, the running controller has not
	// caught up.
	s, stale := snap(true), snap(true)
	stale.Ingresses[0].Annotations = nil
	s.Controller = running(stale)
	r := Diagnose(s, "cd.example.com", "/")
	if out := write(r); r.Broken != HopNginx || !strings.Contains(out, "the running controller does not pass cd.example.com's TLS connections through to lab/argocd:80") {
		t.Errorf("a controller that does not pass the host through:\n%s", out)
	}
}
