package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// readManifests decodes every YAML document of a file.
func readManifests(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeManifests(t, path, b)
}

// decodeManifests decodes every YAML document of b, from source.
func decodeManifests(t *testing.T, source string, b []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// dynamicClient is a dynamic client of cfg's API server and a REST mapper
// that reads its discovery (Reset it after installing a CRD).
func dynamicClient(t *testing.T, cfg *rest.Config) (dynamic.Interface, *restmapper.DeferredDiscoveryRESTMapper) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
}

// dryRunApply server-side applies obj with dryRun=All: the API server runs
// defaulting, validation and admission and stores nothing.
func dryRunApply(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, obj *unstructured.Unstructured) error {
	return serverSideApply(ctx, dyn, mapper, obj, []string{metav1.DryRunAll})
}

// serverSideApply server-side applies obj, with the dryRun options given.
func serverSideApply(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, obj *unstructured.Unstructured, dryRun []string) error {
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
	}
	force := true
	_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{DryRun: dryRun, FieldManager: "portico-e2e", Force: &force})
	return err
}

// Every manifest under deploy/ is accepted by the real API server (server-
// side dry run), and the controller Deployment has what an operator
// expects; the webhook patch merges into it.
func TestDeployManifestsDryRun(t *testing.T) {
	ctx := context.Background()
	// Namespaced objects need their namespace to exist, even in a dry run.
	ensureNamespace(t, "ingress-nginx")
	dyn, mapper := dynamicClient(t, env.cp.RESTConfig())
	files, _ := filepath.Glob("../deploy/*.yaml")
	more, _ := filepath.Glob("../deploy/*/*.yaml")
	files = append(files, more...)
	kinds := map[string]bool{}
	var deployment *unstructured.Unstructured
	for _, f := range files {
		if strings.HasSuffix(f, "deployment-patch.yaml") {
			continue // a patch, applied below
		}
		for _, obj := range readManifests(t, f) {
			kinds[obj.GetKind()] = true
			if obj.GetKind() == "Deployment" {
				deployment = obj
			}
			if err := dryRunApply(ctx, dyn, mapper, obj); err != nil {
				t.Errorf("%s: %s %s: %v", f, obj.GetKind(), obj.GetName(), err)
			}
		}
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap",
		"Deployment", "PodDisruptionBudget", "Service", "IngressClass", "ValidatingWebhookConfiguration"} {
		if !kinds[k] {
			t.Errorf("deploy/ has no %s", k)
		}
	}
	if deployment == nil {
		t.Fatal("no Deployment")
	}
	checkDeployment(t, deployment)

	// The webhook patch merges into the Deployment and the result applies.
	orig, _ := json.Marshal(deployment.Object)
	patch := readManifests(t, "../deploy/webhook/deployment-patch.yaml")
	if len(patch) != 1 {
		t.Fatalf("deployment-patch.yaml: %d documents", len(patch))
	}
	// A strategic merge patch replaces the whole args list: it must be the
	// Deployment's with the webhook's flags after them.
	depArgs, _, _ := unstructured.NestedSlice(deployment.Object, "spec", "template", "spec", "containers")
	patchArgs, _, _ := unstructured.NestedSlice(patch[0].Object, "spec", "template", "spec", "containers")
	da, pa := depArgs[0].(map[string]any)["args"].([]any), patchArgs[0].(map[string]any)["args"].([]any)
	if len(pa) != len(da)+3 || !slices.Equal(pa[:len(da)], da) || !strings.HasPrefix(pa[len(da)].(string), "--validating-webhook=") {
		t.Errorf("deployment-patch.yaml's args %q are not the Deployment's %q and the webhook's", pa, da)
	}
	pj, _ := json.Marshal(patch[0].Object)
	merged, err := strategicpatch.StrategicMergePatch(orig, pj, appsv1.Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := json.Unmarshal(merged, &d); err != nil {
		t.Fatal(err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--validating-webhook=:8443") || len(c.VolumeMounts) != 1 || len(d.Spec.Template.Spec.Volumes) != 1 ||
		!slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "webhook" && p.ContainerPort == 8443 }) ||
		!slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "http" }) {
		t.Fatalf("patched container: args %v, ports %v, mounts %v", c.Args, c.Ports, c.VolumeMounts)
	}
	var u map[string]any
	_ = json.Unmarshal(merged, &u)
	if err := dryRunApply(ctx, dyn, mapper, &unstructured.Unstructured{Object: u}); err != nil {
		t.Fatalf("patched Deployment: %v", err)
	}
}

func checkDeployment(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		t.Fatal(err)
	}
	spec := d.Spec.Template.Spec
	if d.Name != "ingress-nginx-controller" || d.Namespace != "ingress-nginx" || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment %s/%s replicas %v", d.Namespace, d.Name, d.Spec.Replicas)
	}
	if spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil {
		t.Error("no pod anti-affinity")
	}
	c := spec.Containers[0]
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
			t.Errorf("probe %+v, want GET /healthz", p)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v", c.Resources)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds <= 0 {
		t.Errorf("lifecycle %+v, want a preStop sleep (kube-proxy forgets the Pod before it drains)", c.Lifecycle)
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_BIND_SERVICE"}) || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("security context %+v", sc)
	}
	for _, want := range []string{"--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller", "--election-id=ingress-nginx-leader"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args lack %s", want)
		}
	}
	envs := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			envs[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if envs["POD_NAME"] != "metadata.name" || envs["POD_NAMESPACE"] != "metadata.namespace" {
		t.Errorf("downward API env %v", envs)
	}
}
