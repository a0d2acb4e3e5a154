package main

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/migrate"
)

// ingress-nginx's arguments through Portico's own flag parsing: what is
// the same, what has no effect, what Portico refuses.
func TestJudgeFlags(t *testing.T) {
	args := []string{"--publish-service=ingress-nginx/ingress-nginx-controller", "--election-id=ingress-nginx-leader",
		"--enable-annotation-validation=true", "--enable-ssl-passthrough", "--v", "2", "--watch-namespace-selector=team=a",
		"--no-such-flag=1", "--sync-rate-limit=fast", "stray"}
	items, f, _ := judgeFlags(args)
	got := map[string]migrate.Status{}
	for _, it := range items {
		got[it.Field+"="+it.Value] = it.Status
	}
	want := map[string]migrate.Status{
		"--publish-service=ingress-nginx/ingress-nginx-controller": migrate.Unchanged,
		"--election-id=ingress-nginx-leader":                       migrate.Unchanged,
		"--enable-annotation-validation=true":                      migrate.Unchanged, // its default: no change
		"--enable-ssl-passthrough=true":                            migrate.Unchanged,
		"--v=2":                                                    migrate.Unchanged,
		"--watch-namespace-selector=team=a":                        migrate.Unchanged,
		"--no-such-flag=1":                                         migrate.Unsupported,
		"--sync-rate-limit=":                                       migrate.Unsupported,
		"stray=":                                                   migrate.Unsupported,
	}
	if len(got) != len(want) {
		t.Errorf("items %v, want %v", got, want)
	}
	for k, s := range want {
		if got[k] != s {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], s, got)
		}
	}
	if f.publishService != "ingress-nginx/ingress-nginx-controller" || f.watchNamespaceSelector != "team=a" {
		t.Errorf("parsed flags: %+v", f)
	}
}

// The container's args after /nginx-ingress-controller, with $(VAR)s
// expanded as the kubelet does.
func TestControllerArgs(t *testing.T) {
	w := &controllerWorkload{kind: "Deployment", namespace: "edge", name: "ingress-nginx-controller", pod: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "sidecar", Args: []string{"--x"}},
		{Name: "controller", Args: []string{"/nginx-ingress-controller", "--configmap=$(POD_NAMESPACE)/cm", "--publish-service=$(UNSET)/svc", "--ingress-class=$(CLASS)"},
			Env: []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
				{Name: "CLASS", Value: "edge"}}},
	}}}
	got, err := w.controllerArgs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--configmap=edge/cm", "--publish-service=$(UNSET)/svc", "--ingress-class=edge"}; !slices.Equal(got, want) {
		t.Errorf("args %q, want %q", got, want)
	}
}
