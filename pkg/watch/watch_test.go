package watch

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
)

func ingress(ns, name string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func start(t *testing.T, opts Options, objs ...any) (*Watcher, *fake.Clientset) {
	t.Helper()
	var ros []runtimeObject
	for _, o := range objs {
		ros = append(ros, o.(runtimeObject))
	}
	client := fake.NewClientset(toRuntime(ros)...)
	w := New(client, opts)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return w, client
}

// next waits for a work item, bounded in time, and returns its reasons.
func next(t *testing.T, w *Watcher) []string {
	t.Helper()
	return nextChange(t, w).Reasons
}

// nextChange waits for a work item, bounded in time.
func nextChange(t *testing.T, w *Watcher) Change {
	t.Helper()
	got := make(chan Change, 1)
	go func() {
		c, _ := w.Next()
		got <- c
	}()
	select {
	case c := <-got:
		w.Done(nil)
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no work item within 10s")
		return Change{}
	}
}

func TestInitialListIsOneWorkItem(t *testing.T) {
	w, _ := start(t, Options{}, ingress("a", "one"), ingress("b", "two"))
	reasons := next(t, w)
	if len(reasons) != 2 || reasons[0] != "Ingress a/one added" || reasons[1] != "Ingress b/two added" {
		t.Fatalf("reasons = %q", reasons)
	}
	if got := len(w.Snapshot().Ingresses); got != 2 {
		t.Fatalf("snapshot has %d Ingresses, want 2", got)
	}
	if w.queue.Len() != 0 {
		t.Fatalf("queue still holds %d items after the coalesced one", w.queue.Len())
	}
}

func TestChangesWhileBusyCoalesce(t *testing.T) {
	w, client := start(t, Options{})
	ctx := context.Background()
	for _, n := range []string{"x", "y", "z"} {
		if _, err := client.NetworkingV1().Ingresses("ns").Create(ctx, ingress("ns", n), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until all three reached the cache, then take one item.
	deadline := time.Now().Add(10 * time.Second)
	for len(w.Snapshot().Ingresses) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("cache did not fill")
		}
		time.Sleep(5 * time.Millisecond)
	}
	reasons := next(t, w)
	if len(reasons) != 3 {
		t.Fatalf("three changes gave reasons %q, want all three in one item", reasons)
	}
	if w.queue.Len() != 0 {
		t.Fatalf("%d items left after coalescing", w.queue.Len())
	}
}

func TestNamespaceAndConfigMapFilters(t *testing.T) {
	w, client := start(t, Options{Namespace: "watched", ConfigMapNamespace: "ingress-nginx", ConfigMapName: "portico",
		TCPServices: "ingress-nginx/tcp-services", UDPServices: "dns/udp-services"},
		ingress("watched", "in"), ingress("other", "out"),
		configMap("ingress-nginx", "portico"), configMap("ingress-nginx", "unrelated"), configMap("ingress-nginx", "tcp-services"))
	next(t, w)
	snap := w.Snapshot()
	if len(snap.Ingresses) != 1 || snap.Ingresses[0].Name != "in" {
		t.Errorf("Ingresses outside --watch-namespace were listed: %v", snap.Ingresses)
	}
	if snap.ConfigMap == nil || snap.ConfigMap.Name != "portico" {
		t.Errorf("ConfigMap = %v, want ingress-nginx/portico", snap.ConfigMap)
	}
	if snap.TCPServices == nil || snap.TCPServices.Name != "tcp-services" || snap.UDPServices != nil {
		t.Errorf("TCP services %v, UDP services %v; want ingress-nginx/tcp-services and none", snap.TCPServices, snap.UDPServices)
	}
	// The UDP services' ConfigMap, once created, is a change and is listed.
	if _, err := client.CoreV1().ConfigMaps("dns").Create(context.Background(), configMap("dns", "udp-services"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if reasons := next(t, w); len(reasons) != 1 || reasons[0] != "ConfigMap dns/udp-services added" {
		t.Errorf("reasons %q", reasons)
	}
	if snap := w.Snapshot(); snap.UDPServices == nil || snap.UDPServices.Namespace != "dns" {
		t.Errorf("UDP services %v after its creation", snap.UDPServices)
	}
}

func node(name, ip string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}}}
}

// --publish-service watches its Service and the Nodes; a Node update that
// leaves the addresses alone (a heartbeat) is no work item.
func TestPublishServiceAndNodes(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}}
	w, client := start(t, Options{PublishServiceNamespace: "ingress-nginx", PublishServiceName: "ingress-nginx-controller"},
		svc, node("n1", "10.0.0.1"))
	next(t, w)
	snap := w.Snapshot()
	if snap.PublishService == nil || snap.PublishService.Name != "ingress-nginx-controller" || len(snap.Nodes) != 1 {
		t.Fatalf("publish service %v, nodes %v", snap.PublishService, snap.Nodes)
	}
	ctx := context.Background()
	n := node("n1", "10.0.0.1")
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	n.Status.Addresses[0].Address = "10.0.0.2"
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	reasons := next(t, w)
	if len(reasons) != 1 || reasons[0] != "Node n1 addresses changed" {
		t.Fatalf("reasons = %q, want only the address change", reasons)
	}
	if got := w.Snapshot().Nodes[0].Status.Addresses[0].Address; got != "10.0.0.2" {
		t.Fatalf("node address %s", got)
	}
}

// An Ingress update that only writes status (Portico's own status writes)
// is no work item; one that changes an annotation is.
func TestIngressStatusOnlyUpdateIsNoWorkItem(t *testing.T) {
	w, client := start(t, Options{}, ingress("ns", "x"), ingress("ns", "y"))
	next(t, w)
	ctx := context.Background()
	x := ingress("ns", "x")
	x.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.9"}}
	if _, err := client.NetworkingV1().Ingresses("ns").UpdateStatus(ctx, x, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	y := ingress("ns", "y")
	y.Annotations = map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}
	if _, err := client.NetworkingV1().Ingresses("ns").Update(ctx, y, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// One informer's handler sees its events in order: a reason for x
	// would come before y's, in this item or alone in an earlier one.
	reasons := next(t, w)
	if len(reasons) != 1 || reasons[0] != "Ingress ns/y updated" {
		t.Fatalf("reasons = %q, want y's annotation change alone", reasons)
	}
	for _, ing := range w.Snapshot().Ingresses {
		if got := ing.Status.LoadBalancer.Ingress; ing.Name == "x" && (len(got) != 1 || got[0].IP != "10.0.0.9") {
			t.Errorf("the cache missed the status write: %v", got)
		}
	}
}

// --watch-namespace-selector: only Ingresses of matching namespaces are in
// the snapshot, and relabelling a namespace is a change that moves them.
func TestNamespaceSelector(t *testing.T) {
	sel, err := labels.Parse("team=a")
	if err != nil {
		t.Fatal(err)
	}
	nsA := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"team": "a"}}}
	nsB := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "b"}}
	w, client := start(t, Options{NamespaceSelector: sel}, nsA, nsB, ingress("a", "one"), ingress("b", "two"), ingress("gone", "three"))
	next(t, w)
	names := func() []string {
		var out []string
		for _, ing := range w.Snapshot().Ingresses {
			out = append(out, ing.Namespace+"/"+ing.Name)
		}
		sort.Strings(out)
		return out
	}
	if got := names(); len(got) != 1 || got[0] != "a/one" {
		t.Fatalf("snapshot Ingresses %v, want [a/one]", got)
	}
	nsB.Labels = map[string]string{"team": "a"}
	if _, err := client.CoreV1().Namespaces().Update(context.Background(), nsB, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := next(t, w); len(r) != 1 || r[0] != "Namespace b labels changed" {
		t.Fatalf("reasons %q, want the namespace's label change", r)
	}
	if got := names(); len(got) != 2 || got[1] != "b/two" {
		t.Fatalf("after relabelling: %v, want [a/one b/two]", got)
	}
}

// A work item of EndpointSlice changes alone says so: the controller then
// updates the endpoints of the last plan instead of building a new one.
func TestEndpointsOnly(t *testing.T) {
	w, client := start(t, Options{}, ingress("ns", "x"))
	if c := nextChange(t, w); c.EndpointsOnly {
		t.Fatalf("the initial list %q is endpoints only", c.Reasons)
	}
	ctx := context.Background()
	slice := func(name string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, AddressType: discoveryv1.AddressTypeIPv4}
	}
	if _, err := client.DiscoveryV1().EndpointSlices("ns").Create(ctx, slice("a"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := nextChange(t, w); !c.EndpointsOnly || len(c.Reasons) != 1 || c.Reasons[0] != "EndpointSlice ns/a added" {
		t.Errorf("a slice added: %+v, want endpoints only", c)
	}
	// A slice and an Ingress in one item: not endpoints only.
	if _, err := client.DiscoveryV1().EndpointSlices("ns").Create(ctx, slice("b"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.NetworkingV1().Ingresses("ns").Create(ctx, ingress("ns", "y"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(w.Snapshot().EndpointSlices) < 2 || len(w.Snapshot().Ingresses) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("cache did not fill")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c := nextChange(t, w); c.EndpointsOnly || len(c.Reasons) != 2 {
		t.Errorf("a slice and an Ingress: %+v, want both, not endpoints only", c)
	}
	// A retry after an error is a full sync, whatever came with it.
	if err := client.DiscoveryV1().EndpointSlices("ns").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c, _ := w.Next()
	w.Done(errors.New("nginx refused"))
	if !c.EndpointsOnly {
		t.Errorf("a slice deleted: %+v, want endpoints only", c)
	}
	if c := nextChange(t, w); c.EndpointsOnly {
		t.Errorf("the retry %+v is endpoints only", c)
	}
}

// The watched namespaces' ConfigMaps are listed; once the caller said
// which it reads, a change to another one is no work item, a change to
// one it reads is.
func TestReferencedConfigMaps(t *testing.T) {
	w, client := start(t, Options{}, configMap("app", "auth-headers"), configMap("app", "unrelated"))
	if reasons := next(t, w); len(reasons) != 2 {
		t.Fatalf("initial reasons %q", reasons)
	}
	if got := len(w.Snapshot().ConfigMaps); got != 2 {
		t.Fatalf("snapshot has %d ConfigMaps, want 2", got)
	}
	w.SetReferencedConfigMaps([]string{"app/auth-headers", "app/missing"})
	ctx := context.Background()
	changed := configMap("app", "unrelated")
	changed.Data = map[string]string{"a": "b"}
	if _, err := client.CoreV1().ConfigMaps("app").Update(ctx, changed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ConfigMaps("app").Create(ctx, configMap("app", "missing"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if reasons := next(t, w); len(reasons) != 1 || reasons[0] != "ConfigMap app/missing added" {
		t.Fatalf("reasons %q, want the referenced ConfigMap's creation alone", reasons)
	}
}
