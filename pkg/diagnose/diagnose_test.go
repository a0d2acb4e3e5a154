package diagnose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

var now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

var opts = model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"}

func ingress(name, class, host, path string, svc string, port networkingv1.ServiceBackendPort, age int) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name, CreationTimestamp: metav1.NewTime(now.Add(-time.Duration(age) * time.Hour))},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: path, PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: port}}}}}}}}},
	}
}

func num(n int32) networkingv1.ServiceBackendPort    { return networkingv1.ServiceBackendPort{Number: n} }
func named(n string) networkingv1.ServiceBackendPort { return networkingv1.ServiceBackendPort{Name: n} }

func withTLS(ing *networkingv1.Ingress, secret string) *networkingv1.Ingress {
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{ing.Spec.Rules[0].Host}, SecretName: secret}}
	return ing
}

func service(name, portName string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: portName, Port: 80, TargetPort: intstr.FromInt32(5678)}}}}
}

type endpoint struct {
	addr, pod          string
	ready, terminating bool
}

func slice(svc, portName string, eps ...endpoint) *discoveryv1.EndpointSlice {
	port := int32(5678)
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "lab", Name: svc + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
	}
	for _, e := range eps {
		ready, term := e.ready, e.terminating
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.addr},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &ready, Terminating: &term},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "lab", Name: e.pod}})
	}
	return s
}

func pod(name string, ready corev1.ConditionStatus) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name}, Status: corev1.PodStatus{
		Phase:      corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))}}}}
}

func event(podName, reason, msg string, age time.Duration) *corev1.Event {
	return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: podName + "." + reason},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "lab", Name: podName},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: msg, LastTimestamp: metav1.NewTime(now.Add(-age))}
}

func ourClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
}

func otherClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "traefik"}, Spec: networkingv1.IngressClassSpec{Controller: "traefik.io/ingress-controller"}}
}

func tlsSecret(t *testing.T, name string, host string, notAfter time.Time) *corev1.Secret {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name}, Type: corev1.SecretTypeTLS, Data: map[string][]byte{
		corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})}}
}

// lua is the Lua state of a controller holding the given backends with
// the endpoints model.Build computes from s.
func lua(s *Snapshot, names ...string) *Controller {
	cfg := s.build()
	l := &plan.Backends{Backends: []plan.Backend{}}
	for _, b := range cfg.Backends {
		for _, n := range names {
			if b.Name == n {
				var eps []plan.Endpoint
				for _, e := range b.Endpoints {
					eps = append(eps, plan.Endpoint{Address: e.Address, Port: e.Port})
				}
				l.Backends = append(l.Backends, plan.Backend{Name: b.Name, LoadBalance: "round_robin", Endpoints: eps})
			}
		}
	}
	// The routes the controller pushes: its plan's.
	p, err := plan.Make(cfg, nil, plan.Options{})
	if err != nil {
		panic(err)
	}
	rt := &plan.Routes{}
	if err := json.Unmarshal(p.Documents.Routes.Body, rt); err != nil {
		panic(err)
	}
	return &Controller{Status: &Status{Synced: true, Options: &opts, Model: cfg, Nginx: NginxStats{Reloads: 2, LastReason: "initial sync", LastReload: now}}, Lua: l, Routes: rt}
}

func TestDiagnose(t *testing.T) {
	healthy := func() *Snapshot {
		return &Snapshot{Input: model.Input{
			Ingresses:      []*networkingv1.Ingress{ingress("api", "nginx", "app.example.com", "/api", "api-service", num(80), 1)},
			IngressClasses: []*networkingv1.IngressClass{ourClass(), otherClass()},
			Services:       []*corev1.Service{service("api-service", "")},
			EndpointSlices: []*discoveryv1.EndpointSlice{slice("api-service", "", endpoint{addr: "10.0.0.5", pod: "api-1", ready: true})},
			Options:        opts, Now: now,
		}, Pods: []*corev1.Pod{pod("api-1", corev1.ConditionTrue)}}
	}
	tests := []struct {
		name   string
		snap   func() *Snapshot
		host   string
		path   string
		states string // hop:state, in order
		text   []string
	}{{
		name: "healthy, controller holds the backend",
		snap: func() *Snapshot { s := healthy(); s.Controller = lua(s, "lab/api-service:80"); return s },
		host: "app.example.com", path: "/api/users",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:ok",
		text: []string{`✓  ingress    Ingress lab/api, host app.example.com, path /api (Prefix)`,
			"✓  service    Service lab/api-service port 80→5678",
			"1 ready, 0 not ready, 0 terminating", "holds backend lab/api-service:80", "no hop is broken",
			"the Lua router holds the route (no server block)", `Lua router: host "app.example.com", route "/api/" → lab/api-service:80`},
	}, {
		name: "a hand edit of nginx.conf, undone",
		snap: func() *Snapshot {
			s := healthy()
			s.Controller = lua(s, "lab/api-service:80")
			s.Controller.Status.Drift = Drift{Edits: 1, Last: &DriftEvent{Path: "/etc/nginx/nginx.conf", At: now, Change: "edited", Line: 12, Restored: true}}
			return s
		},
		host: "app.example.com", path: "/api/users",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:warn",
		text: []string{"hand edits: 1 change(s) the controller did not make to nginx.conf or the files beside it were undone; last: /etc/nginx/nginx.conf edited at 2026-03-01T00:00:00Z (from line 12)",
			"someone edited files the controller writes, and it undid the edits", "make the change through the Ingress objects"},
	}, {
		name: "a hand edit the controller could not undo",
		snap: func() *Snapshot {
			s := healthy()
			s.Controller = lua(s, "lab/api-service:80")
			ev := DriftEvent{Path: "/etc/nginx/run/auth/x", At: now, Change: "removed", Error: "restore: read-only file system"}
			s.Controller.Status.Drift = Drift{Edits: 1, Last: &ev, Unrestored: []DriftEvent{ev}}
			return s
		},
		host: "app.example.com", path: "/api/users",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:fail",
		text: []string{"files the controller writes differ from its version and could not be written back: /etc/nginx/run/auth/x removed (restore: read-only file system)",
			"undo the change inside the Pod"},
	}, {
		name: "a dynamic host whose routes have not reached the Lua router",
		snap: func() *Snapshot {
			s := healthy()
			s.Controller = lua(s, "lab/api-service:80")
			s.Controller.Routes.Hosts = map[string]plan.HostRoutes{"": {Routes: []plan.Route{{Path: "/"}}}}
			return s
		},
		host: "app.example.com", path: "/api/users",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:fail",
		text: []string{"the Lua router routes app.example.com/api/users to 404, the API objects say lab/api-service:80",
			"the routes push has not reached nginx yet"},
	}, {
		name: "seed 000: the only Pod fails its readiness probe",
		snap: func() *Snapshot {
			s := healthy()
			s.EndpointSlices = []*discoveryv1.EndpointSlice{slice("api-service", "", endpoint{addr: "10.244.0.5", pod: "api-app-7d9f4c-xk2p9"})}
			s.Pods = []*corev1.Pod{pod("api-app-7d9f4c-xk2p9", corev1.ConditionFalse)}
			s.Events = []*corev1.Event{
				event("api-app-7d9f4c-xk2p9", "Unhealthy", `Readiness probe failed: Get "http://10.244.0.5:5678/health": dial tcp 10.244.0.5:5678: connect: connection refused`, time.Minute),
				event("api-app-7d9f4c-xk2p9", "BackOff", "older noise", 2*time.Hour),
				event("other", "Unhealthy", "not this pod", 0),
			}
			s.Controller = lua(s, "lab/api-service:80")
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:fail tls:skip nginx:ok",
		text: []string{"✗  endpoints  Service lab/api-service port 80: 0 ready, 1 not ready, 0 terminating: requests get 503",
			"Pod lab/api-app-7d9f4c-xk2p9 (10.244.0.5): phase Running, Ready=False since 2026-02-28T23:00:00Z",
			`last Warning event: Unhealthy: Readiness probe failed: Get "http://10.244.0.5:5678/health": dial tcp 10.244.0.5:5678: connect: connection refused`,
			"✗ broken at endpoints: no endpoint is ready: Pod lab/api-app-7d9f4c-xk2p9 fails its readiness probe",
			"kubectl describe pod -n lab api-app-7d9f4c-xk2p9"},
	}, {
		name: "one of two Pods not ready: a warning, still served",
		snap: func() *Snapshot {
			s := healthy()
			s.EndpointSlices = []*discoveryv1.EndpointSlice{slice("api-service", "",
				endpoint{addr: "10.0.0.5", pod: "api-1", ready: true}, endpoint{addr: "10.0.0.6", pod: "api-2"}, endpoint{addr: "10.0.0.7", pod: "api-3", terminating: true})}
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:warn tls:skip nginx:skip",
		text:   []string{"1 ready, 1 not ready, 1 terminating", "Pod lab/api-2 (10.0.0.6): not ready; the Pod was not found", "controller not asked"},
	}, {
		name: "service-upstream: nginx holds the cluster IP, the Pods behind it are what fails",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses[0].Annotations = map[string]string{"nginx.ingress.kubernetes.io/service-upstream": "true"}
			s.Services[0].Spec.ClusterIP = "10.96.0.20"
			s.EndpointSlices = []*discoveryv1.EndpointSlice{slice("api-service", "", endpoint{addr: "10.0.0.5", pod: "api-1"})}
			s.Pods = []*corev1.Pod{pod("api-1", corev1.ConditionFalse)}
			s.Controller = lua(s, "lab/api-service:80@service")
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:fail tls:skip nginx:ok",
		text: []string{"0 ready, 1 not ready, 0 terminating: requests fail (502: nothing behind the cluster IP)",
			"service-upstream: nginx proxies to the cluster IP 10.96.0.20:80, kube-proxy (or a mesh) picks a ready Pod",
			"Lua backend lab/api-service:80@service: 1 endpoints"},
	}, {
		name: "a server-alias name is diagnosed as its host",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses[0].Annotations = map[string]string{"nginx.ingress.kubernetes.io/server-alias": "alias.example.com"}
			s.Controller = lua(s, "lab/api-service:80")
			return s
		},
		host: "alias.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:ok",
		text:   []string{"Ingress lab/api, host app.example.com, path /api (Prefix)", "no hop is broken"},
	}, {
		// nginx tries regex locations before the longest prefix: a
		// use-regex path wins over "/" on a host with a server block.
		name: "a use-regex path on a host with a server block",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses[0].Spec.Rules[0].HTTP.Paths[0].Path = "/"
			re := ingress("regex", "nginx", "app.example.com", "/api/v[0-9]+", "api-service", num(80), 2)
			re.Annotations = map[string]string{"nginx.ingress.kubernetes.io/use-regex": "true"}
			*re.Spec.Rules[0].HTTP.Paths[0].PathType = networkingv1.PathTypeImplementationSpecific
			s.Ingresses = append(s.Ingresses, re)
			s.ConfigMap = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "portico"},
				Data: map[string]string{"dynamic-routing": "false"}}
			return s
		},
		host: "app.example.com", path: "/api/v2/users",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:skip",
		text:   []string{"Ingress lab/regex, host app.example.com, path /api/v[0-9]+ (ImplementationSpecific)"},
	}, {
		name: "the ConfigMap's block lists and default source range",
		snap: func() *Snapshot {
			s := healthy()
			s.Controller = lua(s, "lab/api-service:80")
			s.ConfigMap = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "portico"},
				Data: map[string]string{"block-user-agents": "~*bot", "whitelist-source-range": "10.0.0.0/8"}}
			return s
		},
		host: "app.example.com", path: "/api/users",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:ok",
		text: []string{"the ConfigMap's block-user-agents (1) answer 403 to the clients they match, on every host, before any route",
			"source range: clients outside 10.0.0.0/8 get 403"},
	}, {
		name: "missing Service",
		snap: func() *Snapshot { s := healthy(); s.Services = nil; return s },
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:fail endpoints:skip tls:skip nginx:skip",
		text:   []string{"Service lab/api-service does not exist: requests get 503", "broken at service: create Service lab/api-service"},
	}, {
		name: "port name the Service does not have",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses = []*networkingv1.Ingress{ingress("api", "nginx", "app.example.com", "/api", "api-service", named("web"), 1)}
			s.Services = []*corev1.Service{service("api-service", "http")}
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:fail endpoints:skip tls:skip nginx:skip",
		text:   []string{"Service lab/api-service has no port with name web (its ports: http/80→5678)", "set the Ingress backend.service.port to one of: http/80→5678"},
	}, {
		name: "class of another controller",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses = []*networkingv1.Ingress{ingress("api", "traefik", "app.example.com", "/api", "api-service", num(80), 1)}
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:fail ingress:skip service:skip endpoints:skip tls:skip nginx:skip",
		text: []string{`Ingress lab/api: not ours: ingressClassName "traefik": IngressClass controller traefik.io/ingress-controller is not ours`,
			"broken at class: set spec.ingressClassName to an IngressClass whose spec.controller is k8s.io/ingress-nginx"},
	}, {
		name: "TLS Secret missing",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses = []*networkingv1.Ingress{withTLS(ingress("api", "nginx", "app.example.com", "/api", "api-service", num(80), 1), "app-tls")}
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:fail nginx:skip",
		text:   []string{"has no usable certificate", "secret lab/app-tls does not exist", "broken at tls: create the TLS Secret"},
	}, {
		name: "TLS Secret valid, expiring soon",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses = []*networkingv1.Ingress{withTLS(ingress("api", "nginx", "app.example.com", "/api", "api-service", num(80), 1), "app-tls")}
			s.Secrets = []*corev1.Secret{tlsSecret(t, "app-tls", "app.example.com", now.Add(5*24*time.Hour))}
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:warn nginx:skip",
		text:   []string{"Secret lab/app-tls, expires 2026-03-06T00:00:00Z (in 5 days), names app.example.com", "renew the certificate soon"},
	}, {
		name: "backend not in the Lua balancer yet",
		snap: func() *Snapshot { s := healthy(); s.Controller = lua(s); return s },
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:fail",
		text:   []string{"the Lua balancer does not hold backend lab/api-service:80 (it holds 0 backends)", "broken at nginx: the endpoint push has not reached nginx"},
	}, {
		name: "nginx refused the backend when it was pushed",
		snap: func() *Snapshot {
			s := healthy()
			s.Controller = lua(s, "lab/api-service:80")
			s.Controller.Status.Refused = []plan.Refusal{{Kind: "backend", Name: "lab/api-service:80", Reason: "endpoint needs a port"},
				{Kind: "certificate", Name: "lab/other", Reason: "cert does not parse"}}
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:fail",
		text:   []string{"nginx refused backend lab/api-service:80 when it was pushed: endpoint needs a port", "NginxRefusedItem Event"},
	}, {
		name: "last reload failed",
		snap: func() *Snapshot {
			s := healthy()
			s.Controller = lua(s, "lab/api-service:80")
			s.Controller.Status.Nginx.LastError = "nginx -t: emerg"
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:fail",
		text:   []string{"the last reload failed: nginx -t: emerg", "reloads: 2 reloads, 0 failed; last 2026-03-01T00:00:00Z (initial sync)"},
	}, {
		name: "path conflict: the older Ingress wins, the newer is named",
		snap: func() *Snapshot {
			s := healthy()
			s.Ingresses = append(s.Ingresses, ingress("api-v2", "nginx", "app.example.com", "/api", "api-service", num(80), 0))
			return s
		},
		host: "app.example.com", path: "/api",
		states: "class:ok ingress:ok service:ok endpoints:ok tls:skip nginx:skip",
		text:   []string{"Ingress lab/api, host app.example.com", "Ingress lab/api-v2 lost a conflict: Prefix path /api on host \"app.example.com\" is already served by Ingress lab/api"},
	}, {
		name: "no path matches",
		snap: healthy,
		host: "app.example.com", path: "/web",
		states: "class:ok ingress:fail service:skip endpoints:skip tls:skip nginx:skip",
		text:   []string{"no Ingress path matches app.example.com/web: nginx answers 404"},
	}, {
		name: "unknown host",
		snap: healthy,
		host: "nope.example.com", path: "/",
		states: "class:skip ingress:fail service:skip endpoints:skip tls:skip nginx:skip",
		text:   []string{`no Ingress has a rule for host "nope.example.com"`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkReport(t, Diagnose(tt.snap(), tt.host, tt.path), tt.states, tt.text)
		})
	}
}

// checkReport checks r's hops and their states ("hop:state ...", in
// order), OK() against them, and that Write's text holds each of text.
func checkReport(t *testing.T, r Report, states string, text []string) {
	t.Helper()
	var got []string
	for _, h := range r.Hops {
		got = append(got, h.Name+":"+string(h.State))
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(got, " "); g != states {
		t.Errorf("states:\n got %s\nwant %s\n%s", g, states, buf.String())
	}
	if wantOK := !strings.Contains(states, ":fail"); r.OK() != wantOK {
		t.Errorf("OK() = %v, want %v", r.OK(), wantOK)
	}
	for _, want := range text {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRouteNotes(t *testing.T) {
	limit := int64(1024)
	for _, tc := range []struct {
		r    plan.Route
		want string
	}{
		{plan.Route{Path: "/", Backend: "ns/a:80"}, ""},
		{plan.Route{Path: "/", Backend: "ns/a:80", Location: "@portico_proxy_00112233aabbccdd"},
			"; proxied from nginx.conf's location @portico_proxy_00112233aabbccdd, which has its per-location proxy settings, gRPC, rate limits, custom errors, basic auth or auth-url"},
		{plan.Route{Path: "/", Backend: "ns/a:80", Location: "@portico_proxy_00112233aabbccdd", RateLimit: &plan.RateLimit{Scope: "0a1b", Allowlist: []string{"0a000000/8"}},
			Errors: &plan.RouteErrors{Backend: "ns/errs:80", Namespace: "ns", Ingress: "a", Service: "a", Port: "80"}, BasicAuth: &plan.BasicAuth{Realm: "Staff", File: "ns_users"},
			Auth: &plan.Auth{URL: "http://10.0.0.1/auth", Host: "10.0.0.1", Method: "GET", Signin: "https://login.example.com/"}},
			"; proxied from nginx.conf's location @portico_proxy_00112233aabbccdd, which has its per-location proxy settings, gRPC, rate limits, custom errors, basic auth or auth-url" +
				"; rate limits there count each client address for this Ingress alone (scope 0a1b; exempt networks: 1); basic auth there (realm \"Staff\", htpasswd file ns_users); auth-url there: GET http://10.0.0.1/auth must answer 2xx; a 401 redirects to https://login.example.com/; errors it intercepts served by ns/errs:80"},
		// A redirect answers: nothing after it applies.
		{plan.Route{Path: "/", Backend: "ns/a:80", BodyLimit: &limit, SSLRedirect: true, Redirect: &plan.Redirect{Code: 301, URL: "https://b.example.com/"},
			SourceRange: &plan.SourceRange{Allow: []string{"0a000000/8"}}, RewriteTarget: "/x"},
			"; body limit 1024 bytes (0: none); plain HTTP redirected to HTTPS (308); answers 301 to https://b.example.com/ instead of proxying"},
		{plan.Route{Path: "/", Backend: "ns/a:80", SourceRange: &plan.SourceRange{Allow: []string{"0a000000/8"}}, RewriteTarget: "/x", UpstreamVhost: "in.example", Pass: "https://portico_balancer_https"},
			"; source range: 1 allowed, 0 denied networks (others get 403 when any is allowed); URI rewritten to /x; Host sent: in.example; proxied to https://portico_balancer_https"},
	} {
		if got := RouteNotes(&tc.r); got != tc.want {
			t.Errorf("RouteNotes(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}
