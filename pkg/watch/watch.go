package watch

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Options select what to watch.
type Options struct {
	// Namespace limits namespaced objects to one namespace; "" is all.
	Namespace string
	// ConfigMapNamespace and ConfigMapName name the controller's ConfigMap;
	// empty means none.
	ConfigMapNamespace, ConfigMapName string
	// TCPServices and UDPServices name the ConfigMaps of TCP and UDP
	// services (--tcp-services-configmap, --udp-services-configmap) as
	// namespace/name; empty means none.
	TCPServices, UDPServices string
	// Resync, when non-zero, replays every cached object this often.
	Resync time.Duration
	// PublishServiceNamespace and PublishServiceName name the Service whose
	// addresses go into Ingress status (--publish-service); empty means
	// none. Setting it also watches Nodes, for NodePort Services.
	PublishServiceNamespace, PublishServiceName string
	// NamespaceSelector, when set, keeps only the Ingresses of namespaces
	// whose labels it matches (--watch-namespace-selector); it watches
	// Namespaces, so a label change counts as a change.
	NamespaceSelector labels.Selector
}

// Snapshot is the content of the caches at one moment.
type Snapshot struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	ConfigMap      *corev1.ConfigMap
	// ConfigMaps are the watched namespaces' (the controller's ConfigMap
	// and annotations name some).
	ConfigMaps []*corev1.ConfigMap
	// TCPServices and UDPServices are the ConfigMaps of Options'
	// TCPServices and UDPServices; nil when unset or missing.
	TCPServices, UDPServices *corev1.ConfigMap
	// PublishService is the --publish-service Service, nil when unset or
	// missing; Nodes are listed only when it is set.
	PublishService *corev1.Service
	Nodes          []*corev1.Node
}

// maxReasons caps how many changes one work item lists by name.
const maxReasons = 8

// Watcher owns the informers and the work queue.
type Watcher struct {
	opts      Options
	factories []informers.SharedInformerFactory
	queue     workqueue.TypedRateLimitingInterface[string]

	ingresses, classes, services, slices, secrets, configMaps cache.SharedIndexInformer
	publishService, nodes                                     cache.SharedIndexInformer
	tcpServices, udpServices                                  cache.SharedIndexInformer
	namespaces                                                cache.SharedIndexInformer
	// referenced watches the watched namespaces' ConfigMaps; a change to
	// one syncs only while it is in refs (SetReferencedConfigMaps), or
	// before refs is first set.
	referenced cache.SharedIndexInformer
	refs       atomic.Pointer[map[string]bool]

	// handlersSynced report when the handlers have seen the initial lists.
	handlersSynced []cache.InformerSynced

	mu      sync.Mutex
	reasons []string
	dropped int
	// sliceChanges and others count the EndpointSlice changes and all
	// the others since the last Next.
	sliceChanges, others int
}

// Change is what changed between two Next calls.
type Change struct {
	// Reasons name the changes ("Ingress ns/name updated"), sorted; past
	// the first few, "and N more changes".
	Reasons []string
	// EndpointsOnly is set when every change was to an EndpointSlice:
	// no object the configuration is built from changed but endpoints.
	EndpointsOnly bool
}

// key is the one item the queue ever holds: every change means "sync".
const key = "sync"

// New creates a Watcher; nothing runs until Start.
func New(client kubernetes.Interface, opts Options) *Watcher {
	w := &Watcher{
		opts: opts,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "portico"}),
	}
	ns := informers.NewSharedInformerFactoryWithOptions(client, opts.Resync, informers.WithNamespace(opts.Namespace))
	cluster := informers.NewSharedInformerFactoryWithOptions(client, opts.Resync)
	w.factories = []informers.SharedInformerFactory{ns, cluster}
	w.ingresses = ns.Networking().V1().Ingresses().Informer()
	w.services = ns.Core().V1().Services().Informer()
	w.slices = ns.Discovery().V1().EndpointSlices().Informer()
	w.secrets = ns.Core().V1().Secrets().Informer()
	w.classes = cluster.Networking().V1().IngressClasses().Informer()
	w.referenced = ns.Core().V1().ConfigMaps().Informer()
	informerList := []cache.SharedIndexInformer{w.ingresses, w.services, w.slices, w.secrets, w.classes}
	_ = w.referenced.SetTransform(dropManagedFields)
	reg, _ := w.referenced.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.configMapChanged("added", obj) },
		UpdateFunc: func(_, obj any) { w.configMapChanged("updated", obj) },
		DeleteFunc: func(obj any) { w.configMapChanged("deleted", obj) },
	})
	w.handlersSynced = append(w.handlersSynced, reg.HasSynced)
	// One informer per named ConfigMap, its watch narrowed to the name.
	configMap := func(ns, name string) cache.SharedIndexInformer {
		if name == "" {
			return nil
		}
		f := informers.NewSharedInformerFactoryWithOptions(client, opts.Resync,
			informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
			}))
		w.factories = append(w.factories, f)
		inf := f.Core().V1().ConfigMaps().Informer()
		informerList = append(informerList, inf)
		return inf
	}
	w.configMaps = configMap(opts.ConfigMapNamespace, opts.ConfigMapName)
	tcpNS, tcpName, _ := strings.Cut(opts.TCPServices, "/")
	w.tcpServices = configMap(tcpNS, tcpName)
	udpNS, udpName, _ := strings.Cut(opts.UDPServices, "/")
	w.udpServices = configMap(udpNS, udpName)
	if opts.PublishServiceName != "" {
		ps := informers.NewSharedInformerFactoryWithOptions(client, opts.Resync,
			informers.WithNamespace(opts.PublishServiceNamespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", opts.PublishServiceName).String()
			}))
		w.factories = append(w.factories, ps)
		w.publishService = ps.Core().V1().Services().Informer()
		informerList = append(informerList, w.publishService)
		// Node status changes often; only address changes matter here.
		w.nodes = cluster.Core().V1().Nodes().Informer()
		reg, _ := w.nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { w.changed("added", obj) },
			UpdateFunc: func(old, obj any) {
				o, ok1 := old.(*corev1.Node)
				n, ok2 := obj.(*corev1.Node)
				if !ok1 || !ok2 || !equality.Semantic.DeepEqual(o.Status.Addresses, n.Status.Addresses) {
					w.changed("addresses changed", obj)
				}
			},
			DeleteFunc: func(obj any) { w.changed("deleted", obj) },
		})
		w.handlersSynced = append(w.handlersSynced, reg.HasSynced)
	}
	if opts.NamespaceSelector != nil && !opts.NamespaceSelector.Empty() {
		w.namespaces = cluster.Core().V1().Namespaces().Informer()
		reg, _ := w.namespaces.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { w.changed("added", obj) },
			UpdateFunc: func(old, obj any) {
				o, ok1 := old.(*corev1.Namespace)
				n, ok2 := obj.(*corev1.Namespace)
				if !ok1 || !ok2 || !equality.Semantic.DeepEqual(o.Labels, n.Labels) {
					w.changed("labels changed", obj)
				}
			},
			DeleteFunc: func(obj any) { w.changed("deleted", obj) },
		})
		w.handlersSynced = append(w.handlersSynced, reg.HasSynced)
	}
	for _, inf := range informerList {
		_ = inf.SetTransform(dropManagedFields)
		reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { w.changed("added", obj) },
			UpdateFunc: func(old, obj any) {
				if !statusOnly(old, obj) {
					w.changed("updated", obj)
				}
			},
			DeleteFunc: func(obj any) { w.changed("deleted", obj) },
		})
		w.handlersSynced = append(w.handlersSynced, reg.HasSynced)
	}
	return w
}

// statusOnly reports an Ingress update that changed nothing the
// configuration reads: no spec, label, annotation or deletion change.
// Portico's own status writes are such updates; with thousands of
// Ingresses each would otherwise cost a full sync.
func statusOnly(old, obj any) bool {
	o, ok1 := old.(*networkingv1.Ingress)
	n, ok2 := obj.(*networkingv1.Ingress)
	return ok1 && ok2 && equality.Semantic.DeepEqual(o.Spec, n.Spec) &&
		equality.Semantic.DeepEqual(o.Labels, n.Labels) && equality.Semantic.DeepEqual(o.Annotations, n.Annotations) &&
		o.DeletionTimestamp.Equal(n.DeletionTimestamp)
}

// SetReferencedConfigMaps sets which of the watched namespaces'
// ConfigMaps ("namespace/name") the configuration reads: a change to
// another one syncs nothing.
func (w *Watcher) SetReferencedConfigMaps(refs []string) {
	m := make(map[string]bool, len(refs))
	for _, r := range refs {
		m[r] = true
	}
	w.refs.Store(&m)
}

func (w *Watcher) configMapChanged(verb string, obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	refs := w.refs.Load()
	if m, err := meta.Accessor(obj); refs != nil && (err != nil || !(*refs)[m.GetNamespace()+"/"+m.GetName()]) {
		return
	}
	w.changed(verb, obj)
}

func (w *Watcher) changed(verb string, obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	what := describe(obj)
	_, slice := obj.(*discoveryv1.EndpointSlice)
	w.mu.Lock()
	if slice {
		w.sliceChanges++
	} else {
		w.others++
	}
	if len(w.reasons) < maxReasons {
		w.reasons = append(w.reasons, what+" "+verb)
	} else {
		w.dropped++
	}
	w.mu.Unlock()
	w.queue.Add(key)
}

func describe(obj any) string {
	kind := strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1.")
	m, err := meta.Accessor(obj)
	if err != nil {
		return kind
	}
	if m.GetNamespace() == "" {
		return kind + " " + m.GetName()
	}
	return kind + " " + m.GetNamespace() + "/" + m.GetName()
}

// Start runs the informers and waits until their caches are filled and the
// handlers have seen every initial object.
func (w *Watcher) Start(ctx context.Context) error {
	for _, f := range w.factories {
		f.Start(ctx.Done())
	}
	for _, f := range w.factories {
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				return fmt.Errorf("cache of %v did not sync: %w", typ, context.Cause(ctx))
			}
		}
	}
	if !cache.WaitForCacheSync(ctx.Done(), w.handlersSynced...) {
		return fmt.Errorf("event handlers did not sync: %w", context.Cause(ctx))
	}
	go func() {
		<-ctx.Done()
		w.queue.ShutDown()
	}()
	return nil
}

// Next blocks until something changed and returns what, coalesced. ok is
// false once the Watcher is shut down. Every Next must be followed by Done.
func (w *Watcher) Next() (c Change, ok bool) {
	_, shutdown := w.queue.Get()
	if shutdown {
		return Change{}, false
	}
	w.mu.Lock()
	c.Reasons, w.reasons = w.reasons, nil
	if w.dropped > 0 {
		c.Reasons = append(c.Reasons, fmt.Sprintf("and %d more changes", w.dropped))
		w.dropped = 0
	}
	c.EndpointsOnly = w.sliceChanges > 0 && w.others == 0
	w.sliceChanges, w.others = 0, 0
	w.mu.Unlock()
	sort.Strings(c.Reasons)
	return c, true
}

// Done ends the work item from Next. A non-nil err retries it later, with
// exponential backoff.
func (w *Watcher) Done(err error) {
	if err != nil {
		w.mu.Lock()
		w.reasons = append(w.reasons, "retry after error")
		w.others++
		w.mu.Unlock()
		w.queue.AddRateLimited(key)
	} else {
		w.queue.Forget(key)
	}
	w.queue.Done(key)
}

// Trigger queues a sync that no object change caused (e.g. a timer).
func (w *Watcher) Trigger(reason string) {
	w.mu.Lock()
	w.reasons = append(w.reasons, reason)
	w.others++
	w.mu.Unlock()
	w.queue.Add(key)
}

// Snapshot lists the caches.
func (w *Watcher) Snapshot() Snapshot {
	s := Snapshot{
		Ingresses:      list[*networkingv1.Ingress](w.ingresses),
		IngressClasses: list[*networkingv1.IngressClass](w.classes),
		Services:       list[*corev1.Service](w.services),
		EndpointSlices: list[*discoveryv1.EndpointSlice](w.slices),
		Secrets:        list[*corev1.Secret](w.secrets),
		ConfigMaps:     list[*corev1.ConfigMap](w.referenced),
	}
	if w.namespaces != nil {
		s.Ingresses = w.inSelectedNamespaces(s.Ingresses)
	}
	if w.publishService != nil {
		if svcs := list[*corev1.Service](w.publishService); len(svcs) > 0 {
			s.PublishService = svcs[0]
		}
		s.Nodes = list[*corev1.Node](w.nodes)
	}
	s.ConfigMap = namedConfigMap(w.configMaps, w.opts.ConfigMapName)
	_, tcpName, _ := strings.Cut(w.opts.TCPServices, "/")
	s.TCPServices = namedConfigMap(w.tcpServices, tcpName)
	_, udpName, _ := strings.Cut(w.opts.UDPServices, "/")
	s.UDPServices = namedConfigMap(w.udpServices, udpName)
	return s
}

// namedConfigMap is the ConfigMap called name in inf's cache, or nil. The
// field selector narrows the watch; the name check keeps the answer right
// where a selector is not honoured (fake clientsets).
func namedConfigMap(inf cache.SharedIndexInformer, name string) *corev1.ConfigMap {
	if inf == nil {
		return nil
	}
	for _, cm := range list[*corev1.ConfigMap](inf) {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

// inSelectedNamespaces keeps the Ingresses whose namespace exists and
// matches NamespaceSelector.
func (w *Watcher) inSelectedNamespaces(ings []*networkingv1.Ingress) []*networkingv1.Ingress {
	selected := map[string]bool{}
	for _, ns := range list[*corev1.Namespace](w.namespaces) {
		selected[ns.Name] = w.opts.NamespaceSelector.Matches(labels.Set(ns.Labels))
	}
	out := ings[:0:0]
	for _, ing := range ings {
		if selected[ing.Namespace] {
			out = append(out, ing)
		}
	}
	return out
}

func list[T any](inf cache.SharedIndexInformer) []T {
	objs := inf.GetStore().List()
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// dropManagedFields strips metadata.managedFields from cached objects:
// nothing reads them, and with 10,000 Ingresses whose status we write they
// are a good part of the controller's memory.
func dropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
