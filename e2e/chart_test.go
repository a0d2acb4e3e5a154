package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/e2e/framework"
)

// chartLB is the load-balancer address the test gives the chart's
// controller Service (no traffic goes there; it is what status carries).
const chartLB = "198.51.100.7"

// chartEnv is the control plane of TestIngressNginxChart and what its
// option sets share.
type chartEnv struct {
	cp     *framework.ControlPlane
	admin  kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	web    *app // in chart-apps, labelled portico-e2e=served
	other  *app // in chart-other, unlabelled
}

// ingress-nginx's Helm chart 4.15.1 as a user installed it, with the image
// swapped for Portico's: its default values and six common option sets
// (the release's objects as ingressnginx_release_test.go states them). Each
// runs the chart's container as the image would (ENTRYPOINT portico, the
// chart's args from /nginx-ingress-controller on, its env with POD_NAME,
// POD_NAMESPACE and LD_PRELOAD) as the chart's ServiceAccount with exactly
// the chart's RBAC, on a control plane of its own whose audit log shows
// every request. Each serves an Ingress, follows an EndpointSlice and a
// ConfigMap change, wins the election, writes status, validates through
// the chart's webhook configuration (its path /networking/v1/ingresses) and
// clears or keeps the status on shutdown; none of its requests is
// forbidden.
func TestIngressNginxChart(t *testing.T) {
	ctx := context.Background()
	cp, err := framework.StartControlPlane(ctx, framework.ControlPlaneOptions{WorkDir: filepath.Join(env.workDir, "chart-cluster"), Audit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	ce := &chartEnv{cp: cp, admin: cp.Client()}
	ce.dyn, ce.mapper = dynamicClient(t, cp.RESTConfig())
	for ns, labels := range map[string]map[string]string{"chart-apps": {"portico-e2e": "served"}, "chart-other": nil} {
		if _, err := ce.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ce.web = newAppOn(t, ce.admin, "chart-apps", "chartweb", 1, "")
	ce.other = newAppOn(t, ce.admin, "chart-other", "chartother", 1, "")

	sets := []struct {
		name   string
		values ingressNginxValues
		check  func(t *testing.T, r *chartRun)
	}{
		{"default", ingressNginxValues{}, func(t *testing.T, r *chartRun) {
			// Without --enable-metrics (the chart's default), none of
			// ingress-nginx's families, as there.
			samples, families, err := scrapeSamples(r.p)
			if err != nil {
				t.Fatal(err)
			}
			for name := range families {
				if strings.HasPrefix(name, "nginx_ingress_controller_") {
					t.Errorf("%s without --enable-metrics (%d samples)", name, len(find(samples, name, nil)))
				}
			}
		}},
		// Prometheus metrics on, without the host label.
		{"metrics", ingressNginxValues{metrics: true, extraArgs: map[string]string{"metrics-per-host": "false"}}, func(t *testing.T, r *chartRun) {
			// --metrics-per-host=false: no host label; the chart's Pod.
			want := map[string]string{"ingress": "metrics-web", "namespace": "chart-apps", "path": "/", "service": "chartweb", "status": "200",
				"controller_pod": r.pod, "controller_namespace": r.ns, "controller_class": "k8s.io/ingress-nginx"}
			eventually(t, "per-request metrics without the host", func() error {
				samples, _, err := scrapeSamples(r.p)
				if err != nil {
					return err
				}
				got := find(samples, "nginx_ingress_controller_requests", want)
				if len(got) == 0 {
					return fmt.Errorf("no nginx_ingress_controller_requests%v", want)
				}
				for _, s := range got {
					if _, ok := s.labels["host"]; ok {
						return fmt.Errorf("a host label: %v", s.labels)
					}
				}
				return nil
			})
		}},
		// TCP and UDP services exposed through the controller.
		{"tcp-udp", ingressNginxValues{tcp: map[string]string{"9000": "chart-apps/echo:80"}, udp: map[string]string{"5353": "chart-apps/dns:53"}}, func(t *testing.T, r *chartRun) {
			// The chart's tcp and udp values made the ConfigMaps
			// ingress-nginx-tcp ("9000": chart-apps/echo:80) and
			// ingress-nginx-udp ("5353": chart-apps/dns:53) and the flags
			// naming them: both ports serve.
			newStreamAppOn(t, ce.admin, "chart-apps", "echo", 80, 1, false)
			newStreamAppOn(t, ce.admin, "chart-apps", "dns", 80, 1, false)
			eventually(t, "the chart's TCP service on port 9000", func() error {
				c, err := dialStream(9000, nil)
				if err != nil {
					return err
				}
				defer c.Close()
				if c.Pod != "echo-0" {
					return fmt.Errorf("answered by %q", c.Pod)
				}
				return c.Echoes("through the chart's tcp value", streamEchoTimeout)
			})
			eventually(t, "the chart's UDP service on port 5353", func() error {
				got, err := framework.UDPExchange("127.0.0.1:5353", "q", time.Second)
				if err != nil || got != "pod=dns-0 q" {
					return fmt.Errorf("%q, %v", got, err)
				}
				return nil
			})
		}},
		// The controller watches one namespace.
		{"watch-namespace", ingressNginxValues{scopeNamespace: "chart-apps"}, func(t *testing.T, r *chartRun) {
			r.createIngress(t, ce.other, "outside", r.host("outside"), true)
			r.notServed(t, r.host("outside"))
		}},
		// Namespaces chosen by label; the IngressClass by its name;
		// Ingresses without a class served too.
		{"namespace-selector", ingressNginxValues{namespaceSelector: "portico-e2e=served", ingressClassByName: true, watchIngressWithoutClass: true}, func(t *testing.T, r *chartRun) {
			r.createIngress(t, ce.other, "unselected", r.host("unselected"), true)
			r.createIngress(t, ce.web, "classless", r.host("classless"), false)
			r.served(t, r.host("classless"), ce.web)
			r.notServed(t, r.host("unselected"))
		}},
		// The chart's default backend; the health check elsewhere; a
		// shorter election TTL.
		{"default-backend", ingressNginxValues{defaultBackend: true, healthCheckPath: "/ready", healthCheckHost: "127.0.0.1", electionTTL: "20s"}, func(t *testing.T, r *chartRun) {
			// The chart's default backend Service, its endpoint an echo pod.
			db := &app{ns: r.ns, name: "ingress-nginx-defaultbackend", port: 80, target: 8080, client: ce.admin}
			db.addPod(t, "chart-defaultbackend")
			db.syncSlice(t, "http")
			r.served(t, "nothing-matches.example.com", db)
		}},
		// What users commonly put under controller.extraArgs.
		{"extra-args", ingressNginxValues{extraArgs: map[string]string{"default-ssl-certificate": "chart-extra-args/default-cert",
			"enable-ssl-passthrough": "", "v": "2", "update-status-on-shutdown": "false"}}, func(t *testing.T, r *chartRun) {
			eventually(t, "--default-ssl-certificate for an unknown name", func() error {
				conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.p.httpsPort), &tls.Config{ServerName: "unknown.example.com", InsecureSkipVerify: true}) //nolint:gosec
				if err != nil {
					return err
				}
				defer conn.Close()
				if got := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "default.chart.example.com" {
					return fmt.Errorf("served %q", got)
				}
				return nil
			})
		}},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			ns := "chart-" + set.name
			if set.name == "default" {
				ns = "ingress-nginx"
			}
			r := ce.start(t, set.name, newIngressNginxRelease(ns, set.values))
			r.common(t, ce)
			if set.check != nil {
				set.check(t, r)
			}
			r.shutdown(t)
		})
	}
}

// chartRun is one option set's controller and objects.
type chartRun struct {
	ce         *chartEnv
	set, ns    string
	pod        string
	release    *ingressNginxRelease
	deployment *appsv1.Deployment
	p          *portico
	ingresses  []*networkingv1.Ingress
}

func (r *chartRun) host(what string) string { return what + "." + r.set + ".chart.example.com" }

// start creates the release's objects and runs its controller.
func (ce *chartEnv) start(t *testing.T, set string, rel *ingressNginxRelease) *chartRun {
	ctx := context.Background()
	r := &chartRun{ce: ce, set: set, release: rel, deployment: rel.deployment, ns: rel.ns}
	if _, err := ce.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, o := range rel.objects() {
		if o == metav1.Object(rel.webhook) {
			continue
		}
		u := toUnstructured(t, o)
		if err := serverSideApply(ctx, ce.dyn, ce.mapper, u, nil); err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if o.GetNamespace() == "" { // the next set makes its own
			t.Cleanup(func() { ce.deleteObject(t, u) })
		}
	}
	// What the cluster would do: the Pod, the load balancer's address,
	// the Secret a user made for --default-ssl-certificate.
	r.pod = "ingress-nginx-controller-" + set + "-x7k2p"
	podLabels := map[string]string{"pod-template-hash": "5c9f7d8b6"}
	for k, v := range r.deployment.Spec.Template.Labels {
		podLabels[k] = v
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.pod, Labels: podLabels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "portico:dev"}}}}
	created, err := ce.admin.CoreV1().Pods(r.ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.Phase = corev1.PodRunning
	if _, err := ce.admin.CoreV1().Pods(r.ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := ce.admin.CoreV1().Services(r.ns).Get(ctx, "ingress-nginx-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: chartLB}}
	if _, err := ce.admin.CoreV1().Services(r.ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := newCert(t, time.Now().Add(time.Hour), "default.chart.example.com")
	if _, err := ce.admin.CoreV1().Secrets(r.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: "default-cert"},
		Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: c.crt, corev1.TLSPrivateKeyKey: c.key}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The controller, as the chart's ServiceAccount.
	sa := r.deployment.Spec.Template.Spec.ServiceAccountName
	tok, err := ce.admin.CoreV1().ServiceAccounts(r.ns).CreateToken(ctx, sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := ce.cp.TokenKubeconfig(r.ns, tok.Status.Token)
	if err != nil {
		t.Fatal(err)
	}
	container := r.deployment.Spec.Template.Spec.Containers[0]
	vars := map[string]string{}
	environ := os.Environ()
	for _, e := range container.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				v = r.pod
			case "metadata.namespace":
				v = r.ns
			default:
				t.Fatalf("env %s from %s", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
		}
		vars[e.Name] = v
		environ = append(environ, e.Name+"="+v)
	}
	if vars["LD_PRELOAD"] != "/usr/local/lib/libmimalloc.so" {
		t.Fatalf("the chart's env has LD_PRELOAD=%q", vars["LD_PRELOAD"])
	}
	// The kubelet expands $(VAR) in args.
	var args []string
	for _, a := range container.Args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		args = append(args, a)
	}
	if len(args) == 0 || args[0] != "/nginx-ingress-controller" {
		t.Fatalf("the chart's args start with %q", args)
	}
	dir, err := os.MkdirTemp(env.workDir, "chart-"+set+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	caPEM, certFile, keyFile := testCA(t, dir)
	whPort := freePort()
	lua, _ := filepath.Abs("../rootfs/etc/nginx/lua")
	r.p = &portico{configDir: filepath.Join(dir, "nginx"), httpPort: freePort(), httpsPort: freePort(), healthzPort: freePort(),
		statusPort: freePort(), logPath: filepath.Join(dir, "portico.log"), exited: make(chan struct{})}
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "--health-check-path="); ok {
			r.p.healthPath = p
		}
	}
	// Only what cannot be the chart's on this machine is overridden: the
	// API server, ports, directories, the webhook's certificate.
	args = append(args, "--kubeconfig="+kubeconfig,
		fmt.Sprintf("--http-port=%d", r.p.httpPort), fmt.Sprintf("--https-port=%d", r.p.httpsPort),
		fmt.Sprintf("--healthz-port=%d", r.p.healthzPort), fmt.Sprintf("--status-port=%d", r.p.statusPort),
		fmt.Sprintf("--profiler-port=%d", freePort()), "--config-dir="+r.p.configDir, "--lua-dir="+lua, "--resolver="+env.dns.addr(),
		fmt.Sprintf("--validating-webhook=127.0.0.1:%d", whPort), "--validating-webhook-certificate="+certFile,
		"--validating-webhook-key="+keyFile, "--post-shutdown-grace-period=1")
	// Last, after the controller stopped, whether the test failed or not.
	t.Cleanup(func() { r.noForbidden(t) })
	if err := r.p.launch(env.binary, args, environ); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.p.stop()
		if t.Failed() {
			t.Logf("%s controller log tail:\n%s", set, r.p.logTail())
		}
		for _, ing := range r.ingresses {
			_ = ce.admin.NetworkingV1().Ingresses(ing.Namespace).Delete(context.Background(), ing.Name, metav1.DeleteOptions{})
		}
	})

	// The chart's webhook configuration, pointed at this controller: no
	// Service routes here, so a URL with the chart's path stands in.
	hook := rel.webhook.DeepCopy()
	path := hook.Webhooks[0].ClientConfig.Service.Path
	hook.Webhooks[0].ClientConfig = admissionv1.WebhookClientConfig{URL: ptr(fmt.Sprintf("https://127.0.0.1:%d%s", whPort, *path)), CABundle: caPEM}
	if err := serverSideApply(ctx, ce.dyn, ce.mapper, toUnstructured(t, hook), nil); err != nil {
		t.Fatal(err)
	}
	// Before the controller stops: failurePolicy Fail would refuse every
	// Ingress of the next set.
	t.Cleanup(func() { ce.deleteObject(t, toUnstructured(t, hook)) })
	return r
}

// toUnstructured converts a typed object (its TypeMeta set) for
// serverSideApply.
func toUnstructured(t *testing.T, o metav1.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	if u.GetKind() == "" {
		t.Fatalf("%T %s has no TypeMeta", o, o.GetName())
	}
	return u
}

func (ce *chartEnv) deleteObject(t *testing.T, o *unstructured.Unstructured) {
	gvk := o.GroupVersionKind()
	m, err := ce.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Error(err)
		return
	}
	if err := ce.dyn.Resource(m.Resource).Delete(context.Background(), o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Error(err)
	}
}

// createIngress creates an Ingress of a for host, of the chart's class or
// of none.
func (r *chartRun) createIngress(t *testing.T, a *app, name, host string, class bool) *networkingv1.Ingress {
	t.Helper()
	ns := a.ns
	ing := newIngress(ns, r.set+"-"+name, nil, hostRule(host, prefixPath("/", a.name)))
	if !class {
		ing.Spec.IngressClassName = nil
	}
	out, err := r.ce.admin.NetworkingV1().Ingresses(ns).Create(context.Background(), ing, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.ingresses = append(r.ingresses, out)
	return out
}

// served waits until a GET of host answers 200 from one of a's pods.
func (r *chartRun) served(t *testing.T, host string, a *app) {
	t.Helper()
	eventually(t, host+" served by "+a.name, func() error {
		resp, body, err := request(r.p.httpPort, http.MethodGet, host, "/", nil)
		if err != nil {
			return err
		}
		if pod := resp.Header.Get("X-Echo-Pod"); resp.StatusCode != 200 || !slices.Contains(a.podNames(), pod) {
			return fmt.Errorf("%d from %q: %s", resp.StatusCode, pod, short(string(body)))
		}
		return nil
	})
}

// notServed checks that host gets the 404 of no rule, once the controller
// has synced what came before (callers check a served host first).
func (r *chartRun) notServed(t *testing.T, host string) {
	t.Helper()
	resp, body, err := request(r.p.httpPort, http.MethodGet, host, "/", nil)
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("%s: %v %v %s, want 404 (not this controller's)", host, err, resp, short(string(body)))
	}
}

// common runs what every option set must do.
func (r *chartRun) common(t *testing.T, ce *chartEnv) {
	ctx := context.Background()
	main := r.createIngress(t, ce.web, "web", r.host("web"), true)
	r.served(t, r.host("web"), ce.web)

	// An EndpointSlice change: a second pod gets requests, no reload needed.
	extra := ce.web.addPod(t, "chartweb-"+r.set)
	ce.web.syncSlice(t, "")
	t.Cleanup(func() { ce.web.pods = ce.web.pods[:1]; ce.web.syncSlice(t, "") })
	eventually(t, "the new endpoint answers", func() error {
		for range 20 {
			resp, _, err := request(r.p.httpPort, http.MethodGet, r.host("web"), "/", nil)
			if err != nil {
				return err
			}
			if resp.Header.Get("X-Echo-Pod") == extra.name {
				return nil
			}
		}
		return fmt.Errorf("20 requests, none to %s", extra.name)
	})

	// A change to the chart's ConfigMap.
	cms := ce.admin.CoreV1().ConfigMaps(r.ns)
	cm, err := cms.Get(ctx, "ingress-nginx-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{"proxy-body-size": "1k"}
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "proxy-body-size from the ConfigMap", func() error {
		resp, _, err := request(r.p.httpPort, http.MethodPost, r.host("web"), "/", make([]byte, 4096))
		if err == nil && resp.StatusCode != http.StatusRequestEntityTooLarge {
			err = fmt.Errorf("a 4 KiB body: %d", resp.StatusCode)
		}
		return err
	})

	// The election and the status it allows.
	eventually(t, "this controller holds the chart's Lease", func() error {
		l, err := ce.admin.CoordinationV1().Leases(r.ns).Get(ctx, "ingress-nginx-leader", metav1.GetOptions{})
		if err == nil && (l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != r.pod) {
			err = fmt.Errorf("holder %v", l.Spec.HolderIdentity)
		}
		return err
	})
	eventually(t, "Ingress status is the load balancer's address", func() error {
		ing, err := ce.admin.NetworkingV1().Ingresses(main.Namespace).Get(ctx, main.Name, metav1.GetOptions{})
		if err == nil && (len(ing.Status.LoadBalancer.Ingress) != 1 || ing.Status.LoadBalancer.Ingress[0].IP != chartLB) {
			err = fmt.Errorf("status %+v", ing.Status.LoadBalancer.Ingress)
		}
		return err
	})

	// The chart's webhook: a bad annotation is refused, a good Ingress not.
	bad := newIngress("chart-apps", r.set+"-bad", map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/a b"},
		hostRule(r.host("bad"), prefixPath("/", ce.web.name)))
	_, err = ce.admin.NetworkingV1().Ingresses("chart-apps").Create(ctx, bad, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "validate.nginx.ingress.kubernetes.io") || !strings.Contains(err.Error(), "InvalidAnnotation") {
		if err == nil {
			r.ingresses = append(r.ingresses, bad)
		}
		t.Fatalf("an invalid Ingress through the chart's webhook: %v", err)
	}
	r.createIngress(t, ce.web, "good", r.host("good"), true)
}

// shutdown stops the controller (SIGTERM, as the kubelet does after the
// preStop hook) and checks what it leaves in the Ingress status: nothing,
// as the last Pod, unless --update-status-on-shutdown=false.
func (r *chartRun) shutdown(t *testing.T) {
	ctx := context.Background()
	r.ce.deleteObject(t, toUnstructured(t, r.release.webhook))
	r.p.stop()
	keep := false
	for _, a := range r.deployment.Spec.Template.Spec.Containers[0].Args {
		keep = keep || a == "--update-status-on-shutdown=false"
	}
	ing, err := r.ce.admin.NetworkingV1().Ingresses("chart-apps").Get(ctx, r.ingresses[0].Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ing.Status.LoadBalancer.Ingress); (got == 1) != keep {
		t.Fatalf("status after shutdown %+v; --update-status-on-shutdown=false given: %v", ing.Status.LoadBalancer.Ingress, keep)
	}
}

func (r *chartRun) logHas(parts ...string) bool {
	b, _ := os.ReadFile(r.p.logPath)
	for _, l := range strings.Split(string(b), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}

// noForbidden fails on any request of the set's ServiceAccount that the
// API server answered 403 (and, when the test got that far, on the lack
// of the requests the controller makes), on "forbidden" in its log
// (client-go's reflectors and the leader elector log their errors there);
// the loader's complaint about LD_PRELOAD is not in it either.
func (r *chartRun) noForbidden(t *testing.T) {
	user := "system:serviceaccount:" + r.ns + ":" + r.deployment.Spec.Template.Spec.ServiceAccountName
	f, err := os.Open(r.ce.cp.AuditLog())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	requests := map[string]int{}
	for sc.Scan() {
		var ev struct {
			Verb       string `json:"verb"`
			RequestURI string `json:"requestURI"`
			User       struct {
				Username string `json:"username"`
			} `json:"user"`
			ObjectRef *struct {
				Resource    string `json:"resource"`
				Subresource string `json:"subresource"`
			} `json:"objectRef"`
			ResponseStatus *struct {
				Code int `json:"code"`
			} `json:"responseStatus"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.User.Username != user {
			continue
		}
		what := ev.Verb
		if ev.ObjectRef != nil {
			what += " " + strings.TrimSuffix(ev.ObjectRef.Resource+"/"+ev.ObjectRef.Subresource, "/")
		}
		requests[what]++
		if ev.ResponseStatus != nil && ev.ResponseStatus.Code == http.StatusForbidden {
			t.Errorf("forbidden: %s %s", ev.Verb, ev.RequestURI)
		}
	}
	// The audit log did see the controller at work.
	want := []string{"watch ingresses", "create leases", "update ingresses/status", "create events"}
	if !slices.Contains(r.deployment.Spec.Template.Spec.Containers[0].Args, "--update-status-on-shutdown=false") {
		want = append(want, "get pods", "list pods")
	}
	for _, want := range want {
		if requests[want] == 0 && !t.Failed() {
			t.Errorf("the audit log has no %q by %s (it has %v)", want, user, requests)
		}
	}
	if r.logHas("forbidden") || r.logHas("Forbidden") {
		t.Errorf("the controller's log says forbidden:\n%s", r.p.logTail())
	}
	if r.logHas("LD_PRELOAD") {
		t.Errorf("the loader's LD_PRELOAD complaint is in the controller's log")
	}
}
