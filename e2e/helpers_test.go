package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/e2e/framework"
	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

const controllerClass = "k8s.io/ingress-nginx"

func createIngressClass(ctx context.Context) error {
	_, err := env.client.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec:       networkingv1.IngressClassSpec{Controller: controllerClass},
	}, metav1.CreateOptions{})
	return err
}

var nsCounter atomic.Int32

// namespace creates a fresh namespace for one test.
func namespace(t testing.TB, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
	_, err := env.client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// app is a Service whose pods are echo servers in their own netns hosts.
type app struct {
	ns, name string
	port     int32 // Service port
	target   int32 // pods' port
	pods     []*pod
	client   kubernetes.Interface // the API server of its objects; nil: env.client
}

type pod struct {
	name  string
	host  *framework.Host
	echo  *framework.Echo
	ready bool
}

// newApp starts n echo pods and creates a selector-less Service (port 80,
// unnamed unless portName is set) and its EndpointSlice.
func newApp(t testing.TB, ns, name string, n int, portName string) *app {
	t.Helper()
	return newAppOn(t, env.client, ns, name, n, portName)
}

// newAppOn is newApp with its objects on client's API server.
func newAppOn(t testing.TB, client kubernetes.Interface, ns, name string, n int, portName string) *app {
	t.Helper()
	a := &app{ns: ns, name: name, port: 80, target: 8080, client: client}
	for i := range n {
		a.addPod(t, fmt.Sprintf("%s-%d", name, i))
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: portName, Port: a.port, TargetPort: intstr.FromInt32(a.target), Protocol: corev1.ProtocolTCP,
		}}},
	}
	if _, err := client.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a.syncSlice(t, portName)
	return a
}

// newOnePodApp is an app of one pod, <name>-0, whose server start runs
// in the pod's network namespace on target, with its Service (port to
// target) and EndpointSlice.
func newOnePodApp(t testing.TB, ns, name string, port, target int32, start func(h *framework.Host, pod string, port int) (*framework.Echo, error)) *app {
	t.Helper()
	a := &app{ns: ns, name: name, port: port, target: target}
	pn := name + "-0"
	h, err := env.net.AddHost(pn)
	if err != nil {
		t.Fatal(err)
	}
	e, err := start(h, pn, int(target))
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop(); h.Close() })
	a.pods = append(a.pods, &pod{name: pn, host: h, echo: e, ready: true})
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: port, TargetPort: intstr.FromInt32(target), Protocol: corev1.ProtocolTCP}}}}
	if _, err := env.client.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a.syncSlice(t, "")
	return a
}

func (a *app) addPod(t testing.TB, name string) *pod {
	t.Helper()
	h, err := env.net.AddHost(name)
	if err != nil {
		t.Fatal(err)
	}
	e, err := framework.StartEcho(context.Background(), h, a.name, name, int(a.target))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop(); h.Close() })
	p := &pod{name: name, host: h, echo: e, ready: true}
	a.pods = append(a.pods, p)
	return p
}

// syncSlice writes the app's one EndpointSlice from its pods.
func (a *app) syncSlice(t testing.TB, portName string) {
	t.Helper()
	proto := corev1.ProtocolTCP
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: a.name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: a.name, discoveryv1.LabelManagedBy: "portico-e2e"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &a.target, Protocol: &proto}},
		Endpoints:   []discoveryv1.Endpoint{},
	}
	for _, p := range a.pods {
		ready := p.ready
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.host.Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: a.ns, Name: p.name},
		})
	}
	ctx := context.Background()
	client := a.client
	if client == nil {
		client = env.client
	}
	slices := client.DiscoveryV1().EndpointSlices(a.ns)
	cur, err := slices.Get(ctx, es.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = slices.Create(ctx, es, metav1.CreateOptions{})
	case err == nil:
		es.ResourceVersion = cur.ResourceVersion
		_, err = slices.Update(ctx, es, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (a *app) podNames() []string {
	var out []string
	for _, p := range a.pods {
		out = append(out, p.name)
	}
	return out
}

// ingressSpec builders.

func prefixPath(p, svc string) networkingv1.HTTPIngressPath {
	return pathOf(p, networkingv1.PathTypePrefix, svc, 80)
}

func pathOf(p string, pt networkingv1.PathType, svc string, port int32) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}}
}

func hostRule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
		HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
}

func newIngress(ns, name string, annotations map[string]string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	cls := "nginx"
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec:       networkingv1.IngressSpec{IngressClassName: &cls, Rules: rules},
	}
}

func createIngress(t testing.TB, ing *networkingv1.Ingress) *networkingv1.Ingress {
	t.Helper()
	out, err := env.client.NetworkingV1().Ingresses(ing.Namespace).Create(context.Background(), ing, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Namespaces never finish deleting here (no controller-manager), so
	// each test removes its Ingresses to leave the hosts free.
	t.Cleanup(func() {
		_ = env.client.NetworkingV1().Ingresses(ing.Namespace).Delete(context.Background(), ing.Name, metav1.DeleteOptions{})
	})
	return out
}

// response is one HTTP answer through Portico.
type response struct {
	code int
	body string
	echo *echo.Response // nil unless an echo backend answered
}

// get sends GET path to Portico's HTTP port with the given Host header.
func get(t *testing.T, host, path string) response {
	t.Helper()
	r, err := tryGet(host, path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	return r
}

func tryGet(host, path string) (response, error) {
	r, err := send(http.MethodGet, host, path, nil, "")
	return response{code: r.code, body: r.body, echo: r.echo}, err
}

// reply is one answer through Portico with its headers.
type reply struct {
	code   int
	header http.Header
	body   string
	echo   *echo.Response
}

// send sends one request to Portico's HTTP port.
func send(method, host, path string, hdr map[string]string, body string) (reply, error) {
	return sendBody(method, host, path, hdr, body, false)
}

// sendBody is send; with chunked the body goes without a Content-Length.
func sendBody(method, host, path string, hdr map[string]string, body string, chunked bool) (reply, error) {
	r, err := sendRaw(method, host, path, hdr, body, chunked)
	if err != nil {
		return reply{}, err
	}
	if r.header.Get(echo.PodHeader) != "" {
		r.echo = &echo.Response{}
		if err := json.Unmarshal([]byte(r.body), r.echo); err != nil {
			return r, fmt.Errorf("echo body: %w", err)
		}
	}
	return r, nil
}

// sendRaw is sendBody with the answer as it came, its body not decoded;
// with an error reading the body, what was read. An empty host sends
// Portico's address as the Host header.
func sendRaw(method, host, path string, hdr map[string]string, body string, chunked bool) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, fmt.Sprintf("http://127.0.0.1:%d%s", env.portico.httpPort, path), strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if chunked {
		req.ContentLength = -1 // unknown: Transfer-Encoding: chunked
	}
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noProxyClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, header: resp.Header, body: string(b)}, err
}

// eventually retries check every 50 ms until it returns nil or 20 s pass.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	framework.Poll(t, 20*time.Second, 50*time.Millisecond, what, check)
}

// servedBy waits until host+path answers 200 from a pod of want, and
// returns that response.
func servedBy(t *testing.T, host, path string, want *app) response {
	t.Helper()
	var last response
	eventually(t, fmt.Sprintf("%s%s served by %s", host, path, want.name), func() error {
		r, err := tryGet(host, path)
		if err != nil {
			return err
		}
		last = r
		if r.code != 200 || r.echo == nil || r.echo.Service != want.name {
			return fmt.Errorf("got %d %s", r.code, short(r.body))
		}
		return nil
	})
	return last
}

// answers waits until host+path answers code.
func answers(t *testing.T, host, path string, code int) response {
	t.Helper()
	var last response
	eventually(t, fmt.Sprintf("%s%s answers %d", host, path, code), func() error {
		r, err := tryGet(host, path)
		if err != nil {
			return err
		}
		last = r
		if r.code != code {
			return fmt.Errorf("got %d %s", r.code, short(r.body))
		}
		return nil
	})
	return last
}

func short(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
