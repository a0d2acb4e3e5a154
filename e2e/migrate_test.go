package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/migrate"
)

// migrateRun runs `portico migrate -o json` with args against the suite's
// API server and returns its report and exit code.
func migrateRun(t *testing.T, args ...string) (migrate.Report, int, string) {
	t.Helper()
	out, stderr, code := runBinary(t, append([]string{"migrate", "--kubeconfig=" + env.cp.Kubeconfig()}, args...)...)
	var r migrate.Report
	if slices.Contains(args, "json") {
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("portico migrate %v: output is not JSON: %v\n%s%s", args, err, out, stderr)
		}
	}
	return r, code, out + stderr
}

// statuses lists "Kind ns/name: status" and "  field: status" lines.
func statuses(r migrate.Report) map[string]migrate.Status {
	out := map[string]migrate.Status{}
	for _, o := range r.Objects {
		out[o.String()] = o.Status
		for _, it := range o.Items {
			out[o.String()+" "+it.Field] = it.Status
		}
	}
	return out
}

// portico migrate against a real API server holding an ingress-nginx
// installation as its chart makes it (labels, args with $(POD_NAMESPACE),
// ConfigMaps): it finds the controller by its labels, reads its flags,
// ConfigMap, TCP ConfigMap and the Ingresses of its class only, and says
// what changes (exit 1); an installation Portico takes over unchanged
// exits 0.
func TestMigrateAgainstTheAPIServer(t *testing.T) {
	ctx := context.Background()
	ctrlNS, apps := namespace(t, "migrate-ctrl"), namespace(t, "migrate-apps")
	class, ctrl := "migrate-e2e", "example.com/migrate-e2e"
	if _, err := env.client.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: class},
		Spec: networkingv1.IngressClassSpec{Controller: ctrl}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.client.NetworkingV1().IngressClasses().Delete(ctx, class, metav1.DeleteOptions{}) })
	deploy := func(name string, args ...string) {
		labels := map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": name}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ctrlNS, Name: name, Labels: labels},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "registry.k8s.io/ingress-nginx/controller:v1.15.1",
					Args: append([]string{"/nginx-ingress-controller", "--controller-class=" + ctrl, "--ingress-class=" + class,
						"--watch-namespace=" + apps}, args...),
					Env: []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}},
				}}}}}}
		if _, err := env.client.AppsV1().Deployments(ctrlNS).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]map[string]string{
		"ingress-nginx-controller": {"proxy-body-size": "8m", "jaeger-collector-host": "jaeger"},
		"ingress-nginx-tcp":        {"5432": apps + "/db:5432"},
	} {
		if _, err := env.client.CoreV1().ConfigMaps(ctrlNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ctrlNS, Name: name}, Data: data}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deploy("ingress-nginx-controller", "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
		"--tcp-services-configmap=$(POD_NAMESPACE)/ingress-nginx-tcp", "--enable-ssl-passthrough", "--enable-topology-aware-routing=true", "--v=2")
	web := newApp(t, apps, "web", 1, "")
	ing := func(name string, annotations map[string]string, cls string) {
		i := newIngress(apps, name, annotations, hostRule(name+".migrate.example.com", prefixPath("/", web.name)))
		i.Spec.IngressClassName = &cls
		createIngress(t, i)
	}
	ing("plain", nil, class)
	ing("cors", map[string]string{"nginx.ingress.kubernetes.io/enable-cors": "true"}, class)
	ing("mirror", map[string]string{"nginx.ingress.kubernetes.io/enable-opentelemetry": "true", "nginx.ingress.kubernetes.io/opentelemetry-operation-name": "checkout"}, class)
	ing("alias", map[string]string{"nginx.ingress.kubernetes.io/server-alias": "alias2.migrate.example.com"}, class)
	ing("suite", map[string]string{"nginx.ingress.kubernetes.io/opentelemetry-operation-name": "checkout"}, "nginx") // not its class

	r, code, out := migrateRun(t, "-n", ctrlNS, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (changes):\n%s", code, out)
	}
	got := statuses(r)
	want := map[string]migrate.Status{
		"Deployment " + ctrlNS + "/ingress-nginx-controller":                                 migrate.Unsupported,
		"Deployment " + ctrlNS + "/ingress-nginx-controller --configmap":                     migrate.Unchanged,
		"Deployment " + ctrlNS + "/ingress-nginx-controller --v":                             migrate.Unchanged,
		"Deployment " + ctrlNS + "/ingress-nginx-controller --enable-ssl-passthrough":        migrate.Unchanged,
		"Deployment " + ctrlNS + "/ingress-nginx-controller --tcp-services-configmap":        migrate.Unchanged,
		"Deployment " + ctrlNS + "/ingress-nginx-controller --enable-topology-aware-routing": migrate.Unsupported,
		"ConfigMap " + ctrlNS + "/ingress-nginx-controller data[proxy-body-size]":            migrate.Unchanged,
		"ConfigMap " + ctrlNS + "/ingress-nginx-controller data[jaeger-collector-host]":      migrate.Unsupported,
		// Service db does not exist: ingress-nginx leaves the port out,
		// Portico listens and closes the connections.
		"ConfigMap " + ctrlNS + "/ingress-nginx-tcp data[5432]": migrate.Differs,
		"Ingress " + apps + "/plain":                            migrate.Unchanged,
		"Ingress " + apps + "/cors":                             migrate.Unchanged,
		"Ingress " + apps + "/mirror metadata.annotations[nginx.ingress.kubernetes.io/opentelemetry-operation-name]": migrate.Differs,
		"Ingress " + apps + "/alias metadata.annotations[nginx.ingress.kubernetes.io/server-alias]":                  migrate.Differs,
	}
	for k, s := range want {
		if got[k] != s {
			t.Errorf("%s: %q, want %q", k, got[k], s)
		}
	}
	for k := range got {
		if strings.Contains(k, "/suite") {
			t.Errorf("an Ingress of another class is reported: %s", k)
		}
	}
	if r.Unchanged != 2 || r.Differs != 3 || r.Unsupported != 2 {
		t.Errorf("counts %d/%d/%d, want 2 unchanged, 3 differ, 2 unsupported", r.Unchanged, r.Differs, r.Unsupported)
	}
	// The text report names the differences.
	_, code, text := migrateRun(t, "--controller="+ctrlNS+"/ingress-nginx-controller")
	if code != 1 || !strings.Contains(text, "~ differs     Ingress "+apps+"/mirror") || !strings.Contains(text, `opentelemetry-operation-name]="checkout"`) ||
		!strings.Contains(text, "7 objects: 2 unchanged, 3 behave differently, 2 with unsupported settings") ||
		!strings.Contains(text, "StreamServiceNoEndpoints") {
		t.Errorf("text report, exit %d:\n%s", code, text)
	}

	// A second controller in the namespace: by label alone it is ambiguous.
	deploy("ingress-nginx-plain")
	if _, code, out := migrateRun(t, "-n", ctrlNS); code != 2 || !strings.Contains(out, "choose one with --controller") {
		t.Errorf("two controllers: exit %d\n%s", code, out)
	}
	// With only what Portico does the same: exit 0.
	for _, n := range []string{"mirror", "alias"} {
		if err := env.client.NetworkingV1().Ingresses(apps).Delete(ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if r, code, out := migrateRun(t, "--controller="+ctrlNS+"/ingress-nginx-plain", "-o", "json"); code != 0 || r.Changes() || r.Unchanged != 3 {
		t.Errorf("an installation that carries over: exit %d\n%s", code, out)
	}
}
