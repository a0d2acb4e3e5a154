package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// The controller's ConfigMap (--configmap) in the e2e stack.
const (
	configMapNamespace = "ingress-nginx"
	configMapName      = "portico-config"
)

// lbOf returns the algorithm the Lua balancer holds for backend name.
func lbOf(name string) (string, error) {
	b, err := env.portico.luaBackend(name)
	return b.LoadBalance, err
}

// The ConfigMap's load-balance sets the default algorithm, the annotation
// overrides it, and a bad value is refused with a Warning Event and the
// last good value kept, without a restart and without a reload.
func TestConfigMapAndAnnotationLoadBalance(t *testing.T) {
	ctx := context.Background()
	cms := env.client.CoreV1().ConfigMaps(configMapNamespace)
	if _, err := env.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: configMapNamespace}}, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	ns := namespace(t, "lb")
	a := newApp(t, ns, "a", 2, "")
	b := newApp(t, ns, "b", 2, "")
	createIngress(t, newIngress(ns, "default-lb", nil, hostRule("lb.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "ewma", map[string]string{"nginx.ingress.kubernetes.io/load-balance": "ewma"},
		hostRule("ewma.example.com", prefixPath("/", "b"))))
	servedBy(t, "lb.example.com", "/", a)
	servedBy(t, "ewma.example.com", "/", b)
	expect := func(backend, want string) {
		t.Helper()
		eventually(t, backend+" uses "+want, func() error {
			got, err := lbOf(backend)
			if err == nil && got != want {
				err = fmt.Errorf("got %q", got)
			}
			return err
		})
	}
	expect(ns+"/a:80", "round_robin")
	expect(ns+"/b:80", "ewma")
	before := mustStatus(t).Nginx.Reloads

	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName},
		Data: map[string]string{"load-balance": "ewma"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cms.Delete(ctx, configMapName, metav1.DeleteOptions{}) })
	expect(ns+"/a:80", "ewma")

	cm.Data["load-balance"] = "random"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	configMapEventWith(t, "InvalidOption", "data[load-balance]")
	expect(ns+"/a:80", "ewma")
	servedBy(t, "lb.example.com", "/", a)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("algorithm changes reloaded nginx %d times; they are pushed", after-before)
	}
}

// configMapEventWith waits for a Warning Event of reason on the
// controller's ConfigMap whose message holds text.
func configMapEventWith(t *testing.T, reason, text string) {
	t.Helper()
	eventually(t, "Warning Event "+reason+" on the ConfigMap", func() error {
		list, err := env.client.CoreV1().Events(configMapNamespace).List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.Set{"involvedObject.kind": "ConfigMap", "involvedObject.name": configMapName, "type": "Warning"}.String()})
		if err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == reason && strings.Contains(e.Message, text) {
				return nil
			}
		}
		return fmt.Errorf("%d events, none %s with %q", len(list.Items), reason, text)
	})
}
