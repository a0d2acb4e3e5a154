package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// newTestNetwork creates a Network on this process's DefaultSubnet, closed
// when t ends.
func newTestNetwork(t *testing.T, name string) *Network {
	t.Helper()
	n, err := NewNetwork(name, DefaultSubnet(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

// startEcho starts an echo server on a new host of n, stopped when t ends.
func startEcho(ctx context.Context, t *testing.T, n *Network, service, pod string, port int) (*Host, *Echo) {
	t.Helper()
	h, err := n.AddHost(pod)
	if err != nil {
		t.Fatal(err)
	}
	e, err := StartEcho(ctx, h, service, pod, port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.StopAndWait(); err != nil {
			t.Error(err)
		}
	})
	return h, e
}

func TestNetwork(t *testing.T) {
	SkipUnlessRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := newTestNetwork(t, "net")
	a, _ := startEcho(ctx, t, n, "svc", "pod-a", 8080)
	b, eb := startEcho(ctx, t, n, "svc", "pod-b", 8080)

	if a.Addr() == b.Addr() || !n.Subnet().Contains(a.Addr()) || !n.Subnet().Contains(b.Addr()) || a.Addr() == n.Gateway() {
		t.Fatalf("addresses: gateway %s, a %s, b %s, subnet %s", n.Gateway(), a.Addr(), b.Addr(), n.Subnet())
	}
	if _, err := n.AddHost("pod-a"); err == nil {
		t.Error("AddHost accepted a duplicate name")
	}

	// Host to host, across the bridge: the echo sees a's address.
	out, err := a.Command("curl", "-sS", "--max-time", "5", "--noproxy", "*", "http://"+eb.Addr().String()+"/x").Output()
	if err != nil {
		t.Fatalf("curl from %s to %s: %v", a.Name(), eb.Addr(), err)
	}
	var r echo.Response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("curl output %q: %v", out, err)
	}
	if r.Pod != "pod-b" || !strings.HasPrefix(r.RemoteAddr, a.Addr().String()+":") {
		t.Errorf("a -> b: pod %q from %s, want pod-b from %s", r.Pod, r.RemoteAddr, a.Addr())
	}

	// A stopped echo server refuses connections.
	if err := eb.StopAndWait(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := GetEcho(NewHTTPClient(), "http://"+eb.Addr().String()+"/", ""); err == nil {
		t.Error("GET after StopAndWait succeeded")
	}

	// Closing a host removes its namespace and veth.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if netnsExists(b.Netns()) || linkExists(b.veth) {
		t.Errorf("host %s: namespace or veth left after Close", b.Name())
	}
}

// A host answers on an address given with AddAddress (a cluster IP, say),
// from the root namespace, until it is closed.
func TestHostAddAddress(t *testing.T) {
	SkipUnlessRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := newTestNetwork(t, "addr")
	h, err := n.AddHost("proxy")
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("10.96.251.7")
	if _, _, _, err := GetEcho(NewHTTPClient(), "http://"+ip.String()+":80/", ""); err == nil {
		t.Fatalf("GET %s before AddAddress: the dialer let it through", ip)
	}
	if err := h.AddAddress(ip); err != nil {
		t.Fatal(err)
	}
	e, err := StartEchoOn(ctx, h, netip.AddrPortFrom(ip, 80), "svc", "via-ip")
	if err != nil {
		t.Fatal(err)
	}
	_, r, _, err := GetEcho(NewHTTPClient(), "http://"+ip.String()+":80/", "")
	if err != nil || r == nil || r.Pod != "via-ip" {
		t.Fatalf("GET %s: %v %+v, want the echo on it", ip, err, r)
	}
	if err := e.StopAndWait(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if hostAddress(ip) {
		t.Errorf("%s still allowed after its host closed", ip)
	}
	if out, _ := ip4Route(ip); strings.Contains(out, n.bridge) {
		t.Errorf("route to %s left after Close: %s", ip, out)
	}
}

// ip4Route is `ip route get addr`.
func ip4Route(addr netip.Addr) (string, error) {
	out, err := ip("route", "get", addr.String())
	return string(out), err
}

func TestControlPlaneAndNetwork(t *testing.T) {
	SkipUnlessRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a cold hack/build-tools.sh takes most
	defer cancel()

	start := time.Now()
	cp, err := StartControlPlane(ctx, ControlPlaneOptions{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("control plane ready in %v", time.Since(start).Round(time.Millisecond))
	c := cp.Client()

	// The kubeconfig file works on its own, as kubectl would use it.
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	v, err := kubernetes.NewForConfigOrDie(cfg).Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version with %s: %v", cp.Kubeconfig(), err)
	}
	if !strings.HasPrefix(v.GitVersion, "v1.37.") {
		t.Errorf("server version %s, want v1.37.x", v.GitVersion)
	}

	// A user outside system:masters gets only what RBAC grants.
	kc, err := cp.UserKubeconfig("nobody")
	if err != nil {
		t.Fatal(err)
	}
	ucfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kubernetes.NewForConfigOrDie(ucfg).CoreV1().Services("default").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("list services as nobody: %v, want Forbidden", err)
	}

	n := newTestNetwork(t, "cp")
	pods := []string{"echo-0", "echo-1"}
	echoes := map[string]*Echo{}
	for _, p := range pods {
		_, echoes[p] = startEcho(ctx, t, n, "echo", p, 8080)
	}

	const ns = "e2e-framework"
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "echo"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080),
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err != nil || !netip.MustParsePrefix(ServiceClusterIPRange).Contains(ip) {
		t.Errorf("cluster IP %q, want one in %s", svc.Spec.ClusterIP, ServiceClusterIPRange)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:   "echo-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: "echo"},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for _, p := range pods {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{echoes[p].Addr().Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: p},
		})
	}
	if _, err := c.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Every endpoint of the Service answers from the root namespace as its pod.
	slices, err := c.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=echo"})
	if err != nil || len(slices.Items) != 1 {
		t.Fatalf("endpoint slices of echo: %d, %v", len(slices.Items), err)
	}
	client := NewHTTPClient()
	for _, ep := range slices.Items[0].Endpoints {
		url := fmt.Sprintf("http://%s:%d/some/path?q=1", ep.Addresses[0], *slices.Items[0].Ports[0].Port)
		status, r, body, err := GetEcho(client, url, "echo.example.com")
		if err != nil {
			t.Fatal(err)
		}
		if status != 200 || r == nil {
			t.Fatalf("GET %s: %d %s", url, status, body)
		}
		if r.Pod != ep.TargetRef.Name || r.Service != "echo" || r.Host != "echo.example.com" || r.Path != "/some/path" || r.RawQuery != "q=1" {
			t.Errorf("GET %s answered %+v, want pod %s", url, r, ep.TargetRef.Name)
		}
		if !strings.HasPrefix(r.RemoteAddr, n.Gateway().String()+":") {
			t.Errorf("GET %s came from %s, want the bridge address %s", url, r.RemoteAddr, n.Gateway())
		}
	}

	// A restart keeps etcd's data, ports and credentials.
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Services(ns).Get(ctx, "echo", metav1.GetOptions{}); err == nil {
		t.Error("get service with kube-apiserver stopped succeeded")
	}
	start = time.Now()
	if err := cp.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("control plane restarted in %v", time.Since(start).Round(time.Millisecond))
	if got, err := c.CoreV1().Services(ns).Get(ctx, "echo", metav1.GetOptions{}); err != nil || got.UID != svc.UID {
		t.Errorf("service after restart: %v, uid %v want %v", err, got.UID, svc.UID)
	}
}

// FreeSubnet passes over a subnet another run's network holds.
func TestFreeSubnetSkipsOneInUse(t *testing.T) {
	n := newTestNetwork(t, "free")
	s, err := FreeSubnet(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.Overlaps(n.Subnet()) || !BenchmarkRange.Contains(s.Addr()) {
		t.Errorf("FreeSubnet %s, while %s is in use", s, n.Subnet())
	}
}

// The audit log gives the annotation keys of every Ingress write, however
// it was written, and of nothing else.
func TestIngressAnnotationsAudited(t *testing.T) {
	SkipUnlessRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cp, err := StartControlPlane(ctx, ControlPlaneOptions{WorkDir: t.TempDir(), AuditIngresses: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Stop() })
	c := cp.Client()
	ings := c.NetworkingV1().Ingresses("default")
	ing, err := ings.Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "a", Annotations: map[string]string{"example.com/created": "1"}},
		Spec:       networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "s", Port: networkingv1.ServiceBackendPort{Number: 80}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ing.Annotations["example.com/updated"] = "1"
	if _, err := ings.Update(ctx, ing, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ings.Patch(ctx, "a", types.MergePatchType, []byte(`{"metadata":{"annotations":{"example.com/merged":"1"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ings.Patch(ctx, "a", types.JSONPatchType, []byte(`[{"op":"add","path":"/metadata/annotations/example.com~1json-patched","value":"1"}]`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Annotations: map[string]string{"example.com/on-a-service": "1"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cp.IngressAnnotationsAudited()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"example.com/created": true, "example.com/updated": true, "example.com/merged": true, "example.com/json-patched": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audited annotations %v, want %v", got, want)
	}
}
