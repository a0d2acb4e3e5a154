package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/portico-ingress/portico/e2e/framework"
)

const chartDir = "../deploy/helm/portico"

// helmBinary is the pinned helm, built once.
var helmBinary = sync.OnceValues(func() (string, error) { return framework.Helm(context.Background(), nil) })

// helm runs the pinned helm and returns its stdout.
func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	bin, err := helmBinary()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// renderedChart is helm template's output, by kind and name.
type renderedChart map[string]*unstructured.Unstructured

func (r renderedChart) get(t *testing.T, kind, name string, into any) bool {
	t.Helper()
	u := r[kind+"/"+name]
	if u == nil {
		return false
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatal(err)
	}
	return true
}

func (r renderedChart) must(t *testing.T, kind, name string, into any) {
	t.Helper()
	if !r.get(t, kind, name, into) {
		t.Fatalf("no %s %s among %v", kind, name, slices.Sorted(func(yield func(string) bool) {
			for k := range r {
				if !yield(k) {
					return
				}
			}
		}))
	}
}

// chartValueSet is a values file of TestPorticoChart, the release and
// namespace it is rendered for, and what its objects must be.
type chartValueSet struct {
	name, values string
	release, ns  string
	// lookup: helm template --dry-run=server, which reads the cluster.
	lookup bool
	check  func(t *testing.T, r renderedChart)
}

// Portico's Helm chart: `helm lint --strict` and `helm template` with its
// defaults and with values written for ingress-nginx's chart; every
// object of each passes a server-side dry run on the real API server, and
// each value reaches the object it names. The webhook's certificate, made
// by the chart itself, is valid for the webhook Service's name and is the
// caBundle's. ServiceMonitor and PrometheusRule are dry-run against CRDs of
// an open schema.
func TestPorticoChart(t *testing.T) {
	ctx := context.Background()
	dyn, mapper := dynamicClient(t, env.cp.RESTConfig())

	sets := []chartValueSet{
		{"defaults", "{}", "portico", "portico", false, func(t *testing.T, r renderedChart) {
			var d appsv1.Deployment
			r.must(t, "Deployment", "portico-controller", &d)
			c := d.Spec.Template.Spec.Containers[0]
			wantArgs := []string{"controller", "--publish-service=$(POD_NAMESPACE)/portico-controller", "--election-id=portico-leader",
				"--controller-class=k8s.io/ingress-nginx", "--ingress-class=nginx", "--configmap=$(POD_NAMESPACE)/portico-controller",
				"--validating-webhook=:8443", "--validating-webhook-certificate=/usr/local/certificates/cert",
				"--validating-webhook-key=/usr/local/certificates/key", "--enable-metrics=true"}
			if !slices.Equal(c.Args, wantArgs) {
				t.Errorf("args %q, want %q", c.Args, wantArgs)
			}
			if c.Image != "portico:dev" || *d.Spec.Replicas != 2 || d.Spec.Template.Spec.Affinity == nil {
				t.Errorf("image %s, replicas %d, affinity %v", c.Image, *d.Spec.Replicas, d.Spec.Template.Spec.Affinity)
			}
			sc := c.SecurityContext
			if !*sc.RunAsNonRoot || *sc.RunAsUser != 101 || *sc.AllowPrivilegeEscalation ||
				!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_BIND_SERVICE"}) || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Errorf("securityContext %+v", sc)
			}
			var pdb policyv1.PodDisruptionBudget
			r.must(t, "PodDisruptionBudget", "portico-controller", &pdb)
			if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
				t.Errorf("PodDisruptionBudget %+v", pdb.Spec)
			}
			var role rbacv1.Role
			r.must(t, "Role", "portico", &role)
			if !slices.ContainsFunc(role.Rules, func(p rbacv1.PolicyRule) bool {
				return slices.Equal(p.ResourceNames, []string{"portico-leader"}) && slices.Equal(p.Verbs, []string{"get", "update"})
			}) {
				t.Errorf("Role rules %+v: no get/update of the Lease portico-leader", role.Rules)
			}
			checkChartWebhook(t, r, "portico", "portico", &d)
			var svc corev1.Service
			r.must(t, "Service", "portico-controller-metrics", &svc)
		}},
		// What a user of ingress-nginx's chart commonly set, with the
		// names taking over that release's objects' names.
		{"ingress-nginx-values", `
nameOverride: ingress-nginx
controller:
  image:
    registry: registry.example.com
    image: portico
    tag: "1.0.0"
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  replicaCount: 3
  maxUnavailable: 1
  config:
    use-forwarded-headers: "true"
    proxy-body-size: 8m
  extraArgs:
    default-ssl-certificate: ingress-nginx/default-cert
    enable-ssl-passthrough: ""
  service:
    type: NodePort
    nodePorts: {http: 30080, https: 30443, tcp: {"9000": 30900}}
  metrics: {enabled: false}
  admissionWebhooks: {enabled: false}
  ingressClass: public
  ingressClassResource: {name: public, default: true, controllerValue: k8s.io/public-nginx}
  electionID: public-leader
  scope: {namespaceSelector: team=web}
  resources: {requests: {cpu: 200m, memory: 256Mi}}
  nodeSelector: {node-role.example.com/edge: "true"}
  tolerations: [{key: edge, operator: Exists, effect: NoSchedule}]
tcp:
  "9000": apps/echo:80
udp:
  "5353": apps/dns:53
`, "ingress-nginx", "ingress-nginx", false, func(t *testing.T, r renderedChart) {
			var d appsv1.Deployment
			r.must(t, "Deployment", "ingress-nginx-controller", &d)
			c := d.Spec.Template.Spec.Containers[0]
			wantArgs := []string{"controller", "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller", "--election-id=public-leader",
				"--controller-class=k8s.io/public-nginx", "--ingress-class=public", "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
				"--tcp-services-configmap=$(POD_NAMESPACE)/ingress-nginx-tcp", "--udp-services-configmap=$(POD_NAMESPACE)/ingress-nginx-udp",
				"--watch-namespace-selector=team=web",
				"--default-ssl-certificate=ingress-nginx/default-cert", "--enable-ssl-passthrough"}
			if !slices.Equal(c.Args, wantArgs) {
				t.Errorf("args %q, want %q", c.Args, wantArgs)
			}
			if c.Image != "registry.example.com/portico:1.0.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
				t.Errorf("image %s", c.Image)
			}
			spec := d.Spec.Template.Spec
			if *d.Spec.Replicas != 3 || c.Resources.Requests.Cpu().String() != "200m" || spec.NodeSelector["node-role.example.com/edge"] != "true" ||
				len(spec.Tolerations) != 1 || len(spec.Volumes) != 0 || slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" }) {
				t.Errorf("replicas %d, resources %v, nodeSelector %v, tolerations %v, volumes %v, ports %v",
					*d.Spec.Replicas, c.Resources, spec.NodeSelector, spec.Tolerations, spec.Volumes, c.Ports)
			}
			var cm corev1.ConfigMap
			r.must(t, "ConfigMap", "ingress-nginx-controller", &cm)
			if cm.Data["use-forwarded-headers"] != "true" || cm.Data["proxy-body-size"] != "8m" {
				t.Errorf("ConfigMap data %v", cm.Data)
			}
			r.must(t, "ConfigMap", "ingress-nginx-tcp", &cm)
			if cm.Data["9000"] != "apps/echo:80" {
				t.Errorf("tcp ConfigMap data %v", cm.Data)
			}
			r.must(t, "ConfigMap", "ingress-nginx-udp", &cm)
			if cm.Data["5353"] != "apps/dns:53" {
				t.Errorf("udp ConfigMap data %v", cm.Data)
			}
			// The TCP and UDP ports are the Pod's and the Service's.
			for _, want := range []corev1.ContainerPort{{Name: "9000-tcp", ContainerPort: 9000, Protocol: corev1.ProtocolTCP},
				{Name: "5353-udp", ContainerPort: 5353, Protocol: corev1.ProtocolUDP}} {
				if !slices.Contains(c.Ports, want) {
					t.Errorf("container ports %v lack %v", c.Ports, want)
				}
			}
			var svc corev1.Service
			r.must(t, "Service", "ingress-nginx-controller", &svc)
			if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Ports[0].NodePort != 30080 || svc.Spec.Ports[1].NodePort != 30443 {
				t.Errorf("Service %+v", svc.Spec)
			}
			for _, want := range []corev1.ServicePort{
				{Name: "9000-tcp", Port: 9000, TargetPort: intstr.FromString("9000-tcp"), Protocol: corev1.ProtocolTCP, NodePort: 30900},
				{Name: "5353-udp", Port: 5353, TargetPort: intstr.FromString("5353-udp"), Protocol: corev1.ProtocolUDP}} {
				if !slices.Contains(svc.Spec.Ports, want) {
					t.Errorf("Service ports %+v lack %+v", svc.Spec.Ports, want)
				}
			}
			var class networkingv1.IngressClass
			r.must(t, "IngressClass", "public", &class)
			if class.Spec.Controller != "k8s.io/public-nginx" || class.Annotations["ingressclass.kubernetes.io/is-default-class"] != "true" {
				t.Errorf("IngressClass %+v", class)
			}
			var pdb policyv1.PodDisruptionBudget
			r.must(t, "PodDisruptionBudget", "ingress-nginx-controller", &pdb)
			if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil {
				t.Errorf("PodDisruptionBudget %+v", pdb.Spec)
			}
			var cr rbacv1.ClusterRole
			r.must(t, "ClusterRole", "ingress-nginx", &cr)
			if !slices.ContainsFunc(cr.Rules, func(p rbacv1.PolicyRule) bool { return slices.Equal(p.Resources, []string{"namespaces"}) }) {
				t.Errorf("ClusterRole rules %+v: no namespaces for --watch-namespace-selector", cr.Rules)
			}
			for _, absent := range []string{"Service/ingress-nginx-controller-metrics", "ValidatingWebhookConfiguration/ingress-nginx-admission",
				"Secret/ingress-nginx-admission", "Service/ingress-nginx-controller-admission"} {
				if r[absent] != nil {
					t.Errorf("%s rendered", absent)
				}
			}
		}},
		// The webhook's certificate from a Secret the user made (cert-manager,
		// or another CA): the chart makes none; one namespace watched.
		{"existing-secret", `
controller:
  admissionWebhooks:
    existingSecret: portico-webhook-tls
    certificate: /usr/local/certificates/tls.crt
    key: /usr/local/certificates/tls.key
    annotations: {cert-manager.io/inject-ca-from: portico/portico-webhook}
  scope: {enabled: true}
  replicaCount: 1
`, "portico", "portico", false, func(t *testing.T, r renderedChart) {
			var d appsv1.Deployment
			r.must(t, "Deployment", "portico-controller", &d)
			c := d.Spec.Template.Spec.Containers[0]
			for _, want := range []string{"--watch-namespace=$(POD_NAMESPACE)", "--validating-webhook-certificate=/usr/local/certificates/tls.crt"} {
				if !slices.Contains(c.Args, want) {
					t.Errorf("args %q lack %s", c.Args, want)
				}
			}
			if v := d.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].Secret.SecretName != "portico-webhook-tls" {
				t.Errorf("volumes %+v", v)
			}
			if r["Secret/portico-admission"] != nil || r["PodDisruptionBudget/portico-controller"] != nil || d.Spec.Template.Spec.Affinity != nil {
				t.Error("a certificate Secret, a disruption budget or an anti-affinity for one replica")
			}
			var vwc admissionv1.ValidatingWebhookConfiguration
			r.must(t, "ValidatingWebhookConfiguration", "portico-admission", &vwc)
			if len(vwc.Webhooks[0].ClientConfig.CABundle) != 0 || vwc.Annotations["cert-manager.io/inject-ca-from"] == "" {
				t.Errorf("webhook %+v", vwc)
			}
		}},
	}
	// The certificate Secret ingress-nginx's certgen Job left in the
	// namespace of its release (keys ca, cert and key): used as it is, not
	// taken over.
	ensureNamespace(t, "portico")
	ensureNamespace(t, "ingress-nginx")
	ensureNamespace(t, "chart-takeover")
	caPEM, certPEM, keyPEM, err := framework.NewServingCert("ingress-nginx-controller-admission.chart-takeover.svc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.CoreV1().Secrets("chart-takeover").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx-admission", Namespace: "chart-takeover"},
		Data:       map[string][]byte{"ca": caPEM, "cert": certPEM, "key": keyPEM}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sets = append(sets, chartValueSet{"certgen-secret", "nameOverride: ingress-nginx\ncontroller: {ingressClassResource: {name: chart-takeover}}", "ingress-nginx", "chart-takeover", true, func(t *testing.T, r renderedChart) {
		if r["Secret/ingress-nginx-admission"] != nil {
			t.Error("the chart renders the Secret ingress-nginx's Job made (helm would refuse to take it over)")
		}
		var vwc admissionv1.ValidatingWebhookConfiguration
		r.must(t, "ValidatingWebhookConfiguration", "ingress-nginx-admission", &vwc)
		if !bytes.Equal(vwc.Webhooks[0].ClientConfig.CABundle, caPEM) {
			t.Errorf("caBundle %q, want the Secret's CA", vwc.Webhooks[0].ClientConfig.CABundle)
		}
		var d appsv1.Deployment
		r.must(t, "Deployment", "ingress-nginx-controller", &d)
		if v := d.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].Secret.SecretName != "ingress-nginx-admission" {
			t.Errorf("volumes %+v", v)
		}
	}})
	// prometheus-operator's kinds, as the API server knows them once its
	// CRDs are installed (their schema left open: the dry run checks the
	// objects' metadata and kind).
	installOpenCRD(t, dyn, mapper, "monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors")
	installOpenCRD(t, dyn, mapper, "monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules")
	sets = append(sets, chartValueSet{"monitoring", `
controller:
  metrics:
    serviceMonitor: {enabled: true, additionalLabels: {release: kube-prometheus}}
    prometheusRule:
      enabled: true
      rules:
        - alert: NGINXConfigFailed
          expr: count(nginx_ingress_controller_config_last_reload_successful == 0) > 0
          for: 1s
`, "portico", "portico", false, func(t *testing.T, r renderedChart) {
		sm := r["ServiceMonitor/portico-controller"]
		if sm == nil || sm.GetLabels()["release"] != "kube-prometheus" {
			t.Fatalf("ServiceMonitor %v", sm)
		}
		port, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		if len(port) != 1 || port[0].(map[string]any)["port"] != "metrics" {
			t.Errorf("ServiceMonitor endpoints %v", port)
		}
		pr := r["PrometheusRule/portico-controller"]
		if pr == nil {
			t.Fatal("no PrometheusRule")
		}
		groups, _, _ := unstructured.NestedSlice(pr.Object, "spec", "groups")
		if len(groups) != 1 || !strings.Contains(fmt.Sprint(groups[0]), "nginx_ingress_controller_config_last_reload_successful") {
			t.Errorf("PrometheusRule groups %v", groups)
		}
	}})
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			values := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(values, []byte(set.values), 0o644); err != nil {
				t.Fatal(err)
			}
			helm(t, "lint", "--strict", chartDir, "-f", values)
			args := []string{"template", set.release, chartDir, "--namespace", set.ns, "-f", values}
			if set.lookup {
				args = append(args, "--dry-run=server", "--kubeconfig", env.cp.Kubeconfig())
			}
			out := helm(t, args...)
			r := renderedChart{}
			for _, o := range decodeManifests(t, set.name, out) {
				r[o.GetKind()+"/"+o.GetName()] = o
				if err := dryRunApply(ctx, dyn, mapper, o); err != nil {
					t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
			set.check(t, r)
		})
	}
}

// checkChartWebhook checks the webhook the chart makes for release in ns:
// the Secret's certificate is signed by its CA for the webhook Service's
// DNS name, the configuration trusts that CA and calls that Service on
// ingress-nginx's path, and the Deployment mounts the Secret where its
// flags read the certificate and key.
func checkChartWebhook(t *testing.T, r renderedChart, release, ns string, d *appsv1.Deployment) {
	t.Helper()
	var secret corev1.Secret
	r.must(t, "Secret", release+"-admission", &secret)
	var vwc admissionv1.ValidatingWebhookConfiguration
	r.must(t, "ValidatingWebhookConfiguration", release+"-admission", &vwc)
	hook := vwc.Webhooks[0]
	svc := hook.ClientConfig.Service
	if svc == nil || svc.Name != release+"-controller-admission" || svc.Namespace != ns || *svc.Path != "/networking/v1/ingresses" ||
		*hook.FailurePolicy != admissionv1.Fail {
		t.Fatalf("webhook %+v", hook)
	}
	if !bytes.Equal(hook.ClientConfig.CABundle, secret.Data["ca"]) {
		t.Error("the caBundle is not the Secret's CA")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(secret.Data["ca"]) {
		t.Fatalf("the Secret's ca is not PEM: %q", secret.Data["ca"])
	}
	block, _ := pem.Decode(secret.Data["cert"])
	if block == nil {
		t.Fatal("the Secret's cert is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: svc.Name + "." + ns + ".svc"}); err != nil {
		t.Errorf("the serving certificate: %v", err)
	}
	if len(secret.Data["key"]) == 0 {
		t.Error("no key in the Secret")
	}
	c := d.Spec.Template.Spec.Containers[0]
	mounted := ""
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret.Name {
			for _, m := range c.VolumeMounts {
				if m.Name == v.Name {
					mounted = m.MountPath
				}
			}
		}
	}
	for _, f := range []string{"cert", "key"} {
		flag := "--validating-webhook-certificate=" + mounted + "/" + f
		if f == "key" {
			flag = "--validating-webhook-key=" + mounted + "/" + f
		}
		if mounted == "" || !slices.Contains(c.Args, flag) {
			t.Errorf("the Secret is mounted at %q; args %q lack %s", mounted, c.Args, flag)
		}
	}
}

// deploy/portico.yaml and deploy/nodeport.yaml are what hack/manifests.sh
// makes of the chart now (`make manifests` rewrites them).
func TestDeployManifestsCurrent(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("bash", "../hack/manifests.sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/manifests.sh: %v\n%s", err, out)
	}
	for _, f := range []string{"portico.yaml", "nodeport.yaml"} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "deploy", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/%s is not what the chart makes: run `make manifests`", f)
		}
	}
}

// installOpenCRD installs a CustomResourceDefinition for group/version
// kind (plural) whose schema accepts any object, and waits until the API
// server serves it.
func installOpenCRD(t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, group, version, kind, plural string) {
	t.Helper()
	ctx := context.Background()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": plural + "." + group},
		"spec": map[string]any{
			"group": group,
			"scope": "Namespaced",
			"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
			"versions": []any{map[string]any{
				"name": version, "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	if err := serverSideApply(ctx, dyn, mapper, crd, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, kind+" served", func() error {
		mapper.Reset()
		_, err := mapper.RESTMapping(schema.GroupKind{Group: group, Kind: kind}, version)
		return err
	})
}
