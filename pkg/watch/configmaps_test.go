package watch

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WatchConfigMaps watches the ConfigMaps named, in any namespace, lists
// them in Snapshot once it returns, queues a sync when one changes, and
// stops watching one no longer named.
func TestWatchConfigMaps(t *testing.T) {
	w, client := start(t, Options{ConfigMapNamespace: "ingress-nginx", ConfigMapName: "portico"},
		configMap("ingress-nginx", "portico"), configMap("ingress-nginx", "headers"), configMap("apps", "request"),
		configMap("apps", "unrelated"))
	next(t, w)
	ctx := context.Background()
	changed, err := w.WatchConfigMaps(ctx, []string{"apps/request", "ingress-nginx/headers", "apps/missing"})
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	names := func() []string {
		var out []string
		for _, cm := range w.Snapshot().ConfigMaps {
			out = append(out, cm.Namespace+"/"+cm.Name)
		}
		return out
	}
	if got := names(); !slices.Equal(got, []string{"apps/request", "ingress-nginx/headers"}) {
		t.Errorf("Snapshot.ConfigMaps %v", got)
	}
	if again, _ := w.WatchConfigMaps(ctx, []string{"apps/missing", "apps/request", "ingress-nginx/headers"}); again {
		t.Error("the same set reported as changed")
	}
	next(t, w) // their initial lists
	cm := configMap("apps", "request")
	cm.Data = map[string]string{"X-A": "b"}
	if _, err := client.CoreV1().ConfigMaps("apps").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := next(t, w); !slices.Contains(got, "ConfigMap apps/request updated") {
		t.Errorf("reasons %v", got)
	}
	if changed, _ := w.WatchConfigMaps(ctx, []string{"ingress-nginx/headers"}); !changed {
		t.Error("dropping one is no change")
	}
	if got := names(); !slices.Equal(got, []string{"ingress-nginx/headers"}) {
		t.Errorf("Snapshot.ConfigMaps %v after dropping apps/request", got)
	}
}
