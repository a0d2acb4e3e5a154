package watch

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// namedConfigMap is the informer of one ConfigMap the controller's names,
// and what stops it.
type namedConfigMap struct {
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	stop     chan struct{}
}

// WatchConfigMaps makes the Watcher watch exactly the ConfigMaps refs
// ("namespace/name") besides the controller's, each with an informer of
// its own narrowed to its name (the RBAC a reference needs is list and
// watch of ConfigMaps in its namespace), and waits until the new ones
// have listed. It reports whether the set changed: the caller then takes
// a new Snapshot, which lists them in ConfigMaps. Changes to them queue a
// sync like any other object's.
func (w *Watcher) WatchConfigMaps(ctx context.Context, refs []string) (changed bool, err error) {
	w.namedMu.Lock()
	defer w.namedMu.Unlock()
	for ref, n := range w.named {
		if !slices.Contains(refs, ref) {
			close(n.stop)
			n.factory.Shutdown()
			delete(w.named, ref)
			changed = true
		}
	}
	var started []cache.InformerSynced
	for _, ref := range refs {
		if w.named[ref] != nil {
			continue
		}
		ns, name, ok := strings.Cut(ref, "/")
		if !ok {
			return changed, fmt.Errorf("ConfigMap %q is not namespace/name", ref)
		}
		f := informers.NewSharedInformerFactoryWithOptions(w.client, w.opts.Resync, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
			}))
		inf := f.Core().V1().ConfigMaps().Informer()
		_ = inf.SetTransform(dropManagedFields)
		reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { w.changed("added", obj) },
			UpdateFunc: func(_, obj any) { w.changed("updated", obj) },
			DeleteFunc: func(obj any) { w.changed("deleted", obj) },
		})
		n := &namedConfigMap{factory: f, informer: inf, stop: make(chan struct{})}
		f.Start(n.stop)
		if w.named == nil {
			w.named = map[string]*namedConfigMap{}
		}
		w.named[ref] = n
		started = append(started, inf.HasSynced, reg.HasSynced)
		changed = true
	}
	if len(started) > 0 && !cache.WaitForCacheSync(ctx.Done(), started...) {
		return changed, fmt.Errorf("ConfigMaps %v did not list: %w", refs, context.Cause(ctx))
	}
	return changed, nil
}

// namedConfigMaps lists the ConfigMaps WatchConfigMaps watches that exist.
func (w *Watcher) namedConfigMaps() []*corev1.ConfigMap {
	w.namedMu.Lock()
	defer w.namedMu.Unlock()
	var out []*corev1.ConfigMap
	for ref, n := range w.named {
		_, name, _ := strings.Cut(ref, "/")
		// The name check keeps the answer right where a field selector
		// is not honoured (fake clientsets).
		for _, cm := range list[*corev1.ConfigMap](n.informer) {
			if cm.Name == name {
				out = append(out, cm)
			}
		}
	}
	slices.SortFunc(out, func(a, b *corev1.ConfigMap) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return out
}
