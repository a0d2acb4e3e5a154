package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/portico-ingress/portico/e2e/framework"
)

// startReplica starts another controller in its own work dir, stopped at
// the end of the test.
func startReplica(t *testing.T, name string, vars []string, extra ...string) *portico {
	t.Helper()
	dir, err := os.MkdirTemp(env.workDir, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	// nginx workers run as nobody and must reach the config and temp dirs.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := startPorticoEnv(env.binary, env.cp.Kubeconfig(), dir, vars, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s log tail:\n%s", name, p.logTail())
		}
	})
	return p
}

// request sends method path with body to port (Portico's HTTP port).
func request(port int, method, host, path string, body []byte) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Host = host
	resp, err := noProxyClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func ensureNamespace(t testing.TB, name string) {
	t.Helper()
	_, err := env.client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// Two replicas: both serve traffic, exactly one (the Lease holder) writes
// Ingress status; when it is killed the other takes the Lease and the
// status carries its address.
func TestClusterLeaderElection(t *testing.T) {
	ctx := context.Background()
	// Their own class keeps env.portico, which leads its own election,
	// away from this Ingress's status.
	class, ctrl, lease := "portico-ha", "example.com/portico-ha", "portico-e2e-ha"
	classes := env.client.NetworkingV1().IngressClasses()
	if _, err := classes.Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: class},
		Spec: networkingv1.IngressClassSpec{Controller: ctrl}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = classes.Delete(ctx, class, metav1.DeleteOptions{}) })
	ns := namespace(t, "ha")
	web := newApp(t, ns, "web", 1, "")
	ing := newIngress(ns, "ha", nil, hostRule("ha.example.com", prefixPath("/", "web")))
	ing.Spec.IngressClassName = &class
	createIngress(t, ing)

	addr := map[string]string{"replica-a": "192.0.2.1", "replica-b": "192.0.2.2"}
	replicas := map[string]*portico{}
	for _, name := range []string{"replica-a", "replica-b"} {
		replicas[name] = startReplica(t, name, []string{"POD_NAME=" + name, "POD_NAMESPACE=default"},
			"--controller-class="+ctrl, "--election-id="+lease, "--publish-status-address="+addr[name])
	}
	for name, p := range replicas {
		eventually(t, name+" serves ha.example.com", func() error {
			resp, body, err := request(p.httpPort, http.MethodGet, "ha.example.com", "/", nil)
			if err == nil && (resp.StatusCode != 200 || resp.Header.Get("X-Echo-Pod") != web.pods[0].name) {
				err = fmt.Errorf("got %d %s", resp.StatusCode, short(string(body)))
			}
			return err
		})
	}
	holder := func() (string, error) {
		l, err := env.client.CoordinationV1().Leases("default").Get(ctx, lease, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
			return "", errors.New("lease has no holder")
		}
		return *l.Spec.HolderIdentity, nil
	}
	// published returns the replica addresses in the Ingress's status.
	published := func() ([]string, error) {
		cur, err := env.client.NetworkingV1().Ingresses(ns).Get(ctx, "ha", metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, lb := range cur.Status.LoadBalancer.Ingress {
			if strings.HasPrefix(lb.IP, "192.0.2.") {
				out = append(out, lb.IP)
			}
		}
		return out, nil
	}
	statusIs := func(leader string) func() error {
		return func() error {
			h, err := holder()
			if err != nil {
				return err
			}
			if leader != "" && h != leader {
				return fmt.Errorf("lease held by %s, want %s", h, leader)
			}
			got, err := published()
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0] != addr[h] {
				return fmt.Errorf("status has %v, want only the leader %s's %s", got, h, addr[h])
			}
			return nil
		}
	}
	eventually(t, "the Lease holder's address in the status", statusIs(""))
	leader, _ := holder()
	// Both keep syncing; a second writer would make the status flap.
	for range 15 {
		time.Sleep(200 * time.Millisecond)
		if err := statusIs(leader)(); err != nil {
			t.Fatalf("while both run: %v", err)
		}
	}
	other := "replica-a"
	if leader == other {
		other = "replica-b"
	}
	if err := replicas[leader].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-replicas[leader].exited
	// A killed leader does not release the Lease: it expires (15 s).
	framework.WaitFor(t, 45*time.Second, other+" takes over", statusIs(other))
	resp, _, err := request(replicas[other].httpPort, http.MethodGet, "ha.example.com", "/", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s after the takeover: %v %v", other, resp, err)
	}
}

// ConfigMap options apply without a restart (body size limit, server
// tokens, worker processes); an invalid value is refused with a Warning
// Event and the last good value stays in force.
func TestClusterConfigMapOptions(t *testing.T) {
	ctx := context.Background()
	ensureNamespace(t, configMapNamespace)
	ns := namespace(t, "cmopt")
	up := newApp(t, ns, "up", 1, "")
	createIngress(t, newIngress(ns, "body", nil, hostRule("body.example.com", prefixPath("/", "up"))))
	servedBy(t, "body.example.com", "/", up)
	cms := env.client.CoreV1().ConfigMaps(configMapNamespace)
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName},
		Data: map[string]string{"proxy-body-size": "1k", "server-tokens": "true", "worker-processes": "2"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cms.Delete(ctx, configMapName, metav1.DeleteOptions{}) })
	big, small := bytes.Repeat([]byte("x"), 4096), []byte("hello")
	post := func(body []byte, want int) error {
		resp, b, err := request(env.portico.httpPort, http.MethodPost, "body.example.com", "/upload", body)
		if err == nil && resp.StatusCode != want {
			err = fmt.Errorf("POST %d bytes: got %d %s", len(body), resp.StatusCode, short(string(b)))
		}
		return err
	}
	eventually(t, "4 KiB body refused with 413 (proxy-body-size 1k)", func() error { return post(big, 413) })
	if err := post(small, 200); err != nil {
		t.Fatal(err)
	}
	resp, _, err := request(env.portico.httpPort, http.MethodGet, "body.example.com", "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if server := resp.Header.Get("Server"); !strings.HasPrefix(server, "nginx/") {
		t.Fatalf("server-tokens true: Server header %q, want the version", server)
	}
	conf := func() string {
		b, _ := os.ReadFile(filepath.Join(env.portico.configDir, "nginx.conf"))
		return string(b)
	}
	if c := conf(); !strings.Contains(c, "\nworker_processes 2;\n") {
		t.Fatalf("running nginx.conf lacks worker_processes 2")
	}

	cm.Data = map[string]string{"proxy-body-size": "lots", "server-tokens": "true", "worker-processes": "3"}
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Warning Event naming the kept value", func() error {
		list, err := env.client.CoreV1().Events(configMapNamespace).List(ctx, metav1.ListOptions{
			FieldSelector: fields.Set{"involvedObject.kind": "ConfigMap", "involvedObject.name": configMapName, "type": "Warning"}.String()})
		if err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == "InvalidOption" && strings.Contains(e.Message, `data[proxy-body-size]: invalid value "lots"`) &&
				strings.Contains(e.Message, `the last good value "1k" is kept`) {
				return nil
			}
		}
		return fmt.Errorf("%d Warning events, none about the kept proxy-body-size", len(list.Items))
	})
	eventually(t, "the valid change applied with the invalid one", func() error {
		if c := conf(); !strings.Contains(c, "\nworker_processes 3;\n") || !strings.Contains(c, "\n    client_max_body_size 1k;\n") {
			return errors.New("nginx.conf lacks worker_processes 3 or client_max_body_size 1k")
		}
		return nil
	})
	if err := post(big, 413); err != nil {
		t.Fatalf("last good body size not kept: %v", err)
	}
	if err := post(small, 200); err != nil {
		t.Fatal(err)
	}
}

// scrape returns env.portico's /metrics.
func scrape() (string, error) {
	code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", env.portico.healthzPort))
	if err == nil && code != 200 {
		err = fmt.Errorf("/metrics: %d", code)
	}
	return body, err
}

// /metrics counts requests per Ingress, host, Ingress path, Service and
// status, from nginx's Lua counters.
func TestClusterRequestMetrics(t *testing.T) {
	ns := namespace(t, "metrics")
	counted := newApp(t, ns, "counted", 1, "")
	createIngress(t, newIngress(ns, "counted", nil, hostRule("metrics.example.com", prefixPath("/", "counted"))))
	servedBy(t, "metrics.example.com", "/", counted)
	labels := func(status string) map[string]string {
		return map[string]string{"host": "metrics.example.com", "ingress": "counted", "namespace": ns, "path": "/", "service": "counted", "status": status}
	}
	count := func(name, status string) (float64, error) {
		samples, _, err := scrapeSamples(env.portico)
		return sum(samples, name, labels(status)), err
	}
	eventually(t, "the first 200 counted", func() error {
		n, err := count("nginx_ingress_controller_requests", "200")
		if err == nil && n < 1 {
			err = errors.New("no nginx_ingress_controller_requests for the Ingress yet")
		}
		return err
	})
	ok0, err := count("nginx_ingress_controller_requests", "200")
	if err != nil {
		t.Fatal(err)
	}
	teapot0, _ := count("nginx_ingress_controller_requests", "418")
	for range 3 {
		if r := get(t, "metrics.example.com", "/hello"); r.code != 200 {
			t.Fatalf("GET /hello: %d", r.code)
		}
	}
	for range 2 {
		if r := get(t, "metrics.example.com", "/__status/418?x=1"); r.code != 418 {
			t.Fatalf("GET /__status/418: %d", r.code)
		}
	}
	eventually(t, "counters moved by 3 and 2", func() error {
		ok, err := count("nginx_ingress_controller_requests", "200")
		if err != nil {
			return err
		}
		teapot, _ := count("nginx_ingress_controller_requests", "418")
		hist, _ := count("nginx_ingress_controller_request_duration_seconds_count", "418")
		if ok-ok0 != 3 || teapot-teapot0 != 2 || hist != teapot {
			return fmt.Errorf("200: +%v, 418: +%v, 418 latency count %v", ok-ok0, teapot-teapot0, hist)
		}
		return nil
	})
	m, _ := scrape()
	for _, name := range []string{"portico_config_hash", "portico_nginx_last_reload_success 1", `portico_nginx_reloads_total{reason="start",result="success"} 1`} {
		if !strings.Contains(m, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// Labels are the Ingress path, never the request URI.
	if strings.Contains(m, `path="/hello"`) || strings.Contains(m, "__status") {
		t.Error("a request URI became a label")
	}
}

// webhookNamespace makes a namespace whose Ingresses the API server has
// the webhook at url review (trusting caBundle), and no other; it returns
// the namespace and the ValidatingWebhookConfiguration's name.
func webhookNamespace(t *testing.T, prefix, url string, caBundle []byte) (ns, config string) {
	t.Helper()
	ctx := context.Background()
	ns = namespace(t, prefix)
	nsObj, err := env.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Only this namespace is reviewed: other tests are unaffected.
	label := "portico-e2e-admission-" + ns
	nsObj.Labels = map[string]string{label: "true"}
	if _, err := env.client.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	fail, none, timeout := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone, int32(10)
	vwcs := env.client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	vwc, err := vwcs.Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "portico-e2e-" + ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "validate.portico.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"ingresses"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{label: "true"}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = vwcs.Delete(ctx, vwc.Name, metav1.DeleteOptions{}) })
	return ns, vwc.Name
}

// The API server asks the webhook about Ingresses and refuses one whose
// annotation fails validation, with the "Reason: field: message" text its
// Warning Event would carry (TestInvalidAnnotationRejectedWithEvent); an
// accepted Ingress gets a Normal Sync Event.
func TestClusterAdmissionWebhook(t *testing.T) {
	ctx := context.Background()
	caPEM, certFile, keyFile := testCA(t, t.TempDir())
	port := freePort()
	startReplica(t, "webhook", nil, "--update-status=false", fmt.Sprintf("--validating-webhook=127.0.0.1:%d", port),
		"--validating-webhook-certificate="+certFile, "--validating-webhook-key="+keyFile)
	ns, _ := webhookNamespace(t, "admission", fmt.Sprintf("https://127.0.0.1:%d/networking/v1/ingresses", port), caPEM)
	newApp(t, ns, "api", 1, "")

	ings := env.client.NetworkingV1().Ingresses(ns)
	bad := newIngress(ns, "bad", map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/x; return 200 pwned"},
		hostRule("admission.example.com", prefixPath("/", "api")))
	const wantMsg = "InvalidAnnotation: metadata.annotations[nginx.ingress.kubernetes.io/rewrite-target]: "
	// The API server picks the configuration up asynchronously: an early
	// create may pass unreviewed; undo it and try again.
	var denied error
	eventually(t, "the bad Ingress denied by the webhook", func() error {
		_, err := ings.Create(ctx, bad, metav1.CreateOptions{})
		if err == nil {
			_ = ings.Delete(ctx, bad.Name, metav1.DeleteOptions{})
			return errors.New("created: the webhook did not review it yet")
		}
		if !strings.Contains(err.Error(), "denied the request") {
			return err
		}
		denied = err
		return nil
	})
	if !strings.Contains(denied.Error(), wantMsg) {
		t.Fatalf("denial %q lacks %q", denied, wantMsg)
	}
	good := newIngress(ns, "good", map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"},
		hostRule("admission.example.com", prefixPath("/", "api")))
	if _, err := ings.Create(ctx, good, metav1.CreateOptions{}); err != nil {
		t.Fatalf("a valid Ingress was refused: %v", err)
	}
	t.Cleanup(func() { _ = ings.Delete(ctx, good.Name, metav1.DeleteOptions{}) })
	// env.portico serves it and says so with a Normal Event.
	eventually(t, "Normal Sync Event on the accepted Ingress", func() error {
		list, err := env.client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{
			"involvedObject.kind": "Ingress", "involvedObject.name": "good", "type": corev1.EventTypeNormal}.String()})
		if err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == "Sync" && strings.Contains(e.Message, "the Ingress is served") {
				return nil
			}
		}
		return fmt.Errorf("%d Normal events, no Sync", len(list.Items))
	})
	// An update that breaks it is refused too; the stored one is unchanged.
	cur, err := ings.Get(ctx, "good", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Annotations["nginx.ingress.kubernetes.io/rewrite-target"] = "/a b"
	if _, err := ings.Update(ctx, cur, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), wantMsg) {
		t.Fatalf("a breaking update: %v", err)
	}
}

// On SIGTERM a controller stops accepting, fails /healthz, lets nginx
// finish an in-flight request, then exits.
func TestClusterGracefulShutdown(t *testing.T) {
	ns := namespace(t, "drain")
	slow := newApp(t, ns, "slow", 1, "")
	createIngress(t, newIngress(ns, "slow", nil, hostRule("slow.example.com", prefixPath("/", "slow"))))
	p := startReplica(t, "drain", nil, "--update-status=false")
	eventually(t, "the drain controller serves slow.example.com", func() error {
		resp, body, err := request(p.httpPort, http.MethodGet, "slow.example.com", "/", nil)
		if err == nil && (resp.StatusCode != 200 || resp.Header.Get("X-Echo-Pod") != slow.pods[0].name) {
			err = fmt.Errorf("got %d %s", resp.StatusCode, short(string(body)))
		}
		return err
	})
	type result struct {
		code int
		body string
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		resp, body, err := request(p.httpPort, http.MethodGet, "slow.example.com", "/__sleep/3000", nil)
		r := result{err: err, took: time.Since(start), body: string(body)}
		if resp != nil {
			r.code = resp.StatusCode
		}
		done <- r
	}()
	time.Sleep(700 * time.Millisecond) // the request is at the backend
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new connections refused and /healthz failing while draining", func() error {
		select {
		case r := <-done:
			done <- r
			return errors.New("the slow request ended before the checks")
		default:
		}
		if _, _, err := request(p.httpPort, http.MethodGet, "slow.example.com", "/", nil); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("new request: %v, want connection refused", err)
		}
		code, body, err := p.healthz()
		if err == nil && (code != 503 || !strings.Contains(body, "shutting down")) {
			err = fmt.Errorf("/healthz %d %s", code, body)
		}
		return err
	})
	r := <-done
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, `"path":"/__sleep/3000"`) || r.took < 3*time.Second {
		t.Fatalf("in-flight request: %d after %s, err %v, body %s", r.code, r.took, r.err, short(r.body))
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("controller did not exit after draining")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// ingress-nginx's preStop hook, /wait-shutdown (here a link of that name
// to portico), starts the controller's graceful shutdown and returns once
// nginx has stopped, while the controller waits out
// --post-shutdown-grace-period. With --shutdown-grace-period nginx keeps
// serving new requests for that long, the health check failing, before it
// stops accepting.
func TestWaitShutdownAndGracePeriods(t *testing.T) {
	ns := namespace(t, "waitshutdown")
	web := newApp(t, ns, "web", 1, "")
	createIngress(t, newIngress(ns, "web", nil, hostRule("ws.example.com", prefixPath("/", "web"))))
	p := startReplica(t, "waitshutdown", nil, "--update-status=false", "--shutdown-grace-period=5", "--post-shutdown-grace-period=4")
	served := func() error {
		resp, body, err := request(p.httpPort, http.MethodGet, "ws.example.com", "/", nil)
		if err == nil && (resp.StatusCode != 200 || resp.Header.Get("X-Echo-Pod") != web.pods[0].name) {
			err = fmt.Errorf("got %d %s", resp.StatusCode, short(string(body)))
		}
		return err
	}
	eventually(t, "the controller serves ws.example.com", served)
	link := filepath.Join(t.TempDir(), "wait-shutdown")
	if err := os.Symlink(env.binary, link); err != nil {
		t.Fatal(err)
	}
	hook := exec.Command(link, "--config-dir="+p.configDir)
	var hookOut bytes.Buffer
	hook.Stdout, hook.Stderr = &hookOut, &hookOut
	start := time.Now()
	if err := hook.Start(); err != nil {
		t.Fatal(err)
	}
	hookDone := make(chan error, 1)
	go func() { hookDone <- hook.Wait() }()
	eventually(t, "the health check fails at once", func() error {
		if code, body, err := p.healthz(); err != nil || code != 503 || !strings.Contains(body, "shutting down") {
			return fmt.Errorf("/healthz %d %s %v", code, body, err)
		}
		return nil
	})
	if err := served(); err != nil || time.Since(start) > 4*time.Second {
		t.Fatalf("within the shutdown grace period (%s in), a new request: %v", time.Since(start), err)
	}
	select {
	case err := <-hookDone:
		t.Fatalf("wait-shutdown returned during the grace period: %v %s", err, hookOut.String())
	default:
	}
	var hookTook time.Duration
	select {
	case err := <-hookDone:
		hookTook = time.Since(start)
		if err != nil {
			t.Fatalf("wait-shutdown: %v: %s", err, hookOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wait-shutdown did not return after nginx stopped")
	}
	if hookTook < 5*time.Second {
		t.Fatalf("wait-shutdown returned after %s, before the 5s grace period ended", hookTook)
	}
	if _, _, err := request(p.httpPort, http.MethodGet, "ws.example.com", "/", nil); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("after wait-shutdown: %v, want connection refused (nginx stopped)", err)
	}
	select {
	case <-p.exited:
		t.Fatalf("the controller exited %s after the signal, within its post-shutdown grace period", time.Since(start))
	default:
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("the controller did not exit after its post-shutdown grace period")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	// With no controller left, the hook says so.
	if out, err := exec.Command(link, "--config-dir="+p.configDir).CombinedOutput(); err == nil || !strings.Contains(string(out), "no running controller") {
		t.Fatalf("wait-shutdown without a controller: %v %s", err, out)
	}
}

// X-Request-ID: the client's own passes through, else nginx makes one
// (ingress-nginx's generate-request-id); with generate-request-id "false"
// none is made. A location with headers of its own (x-forwarded-prefix,
// in a server block here: a snippet) sends the same set as the
// others, use-forwarded-headers included.
func TestRequestIDAndForwardedHeaders(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "reqid")
	a := newApp(t, ns, "a", 1, "")
	hosts := []string{"reqid.example.com", "reqid-prefix.example.com"}
	createIngress(t, newIngress(ns, "plain", nil, hostRule(hosts[0], prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "prefixed", needsServerBlock(ann+"x-forwarded-prefix", "/pfx"),
		hostRule(hosts[1], prefixPath("/", "a"))))
	for _, h := range hosts {
		servedBy(t, h, "/", a)
	}
	seen := func(host string, send map[string]string, name string) (string, error) {
		r, _ := getWith(t, host, "/", send)
		if r.echo == nil {
			return "", fmt.Errorf("%s: %d %s", host, r.code, short(r.body))
		}
		return strings.Join(r.echo.Headers[name], ","), nil
	}
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, h := range hosts {
		if got, err := seen(h, map[string]string{"X-Request-ID": "trace-abc-123"}, "X-Request-Id"); err != nil || got != "trace-abc-123" {
			t.Errorf("%s: the client's X-Request-ID reached the backend as %q (%v)", h, got, err)
		}
		ids := map[string]bool{}
		for range 20 {
			got, err := seen(h, nil, "X-Request-Id")
			if err != nil || !generated.MatchString(got) {
				t.Fatalf("%s: generated X-Request-ID %q (%v), want 32 hex digits", h, got, err)
			}
			ids[got] = true
		}
		if len(ids) != 20 {
			t.Errorf("%s: 20 requests got %d distinct X-Request-IDs", h, len(ids))
		}
	}

	allowSnippets(t, "generate-request-id", "false", "use-forwarded-headers", "true")
	eventually(t, "no X-Request-ID made with generate-request-id false", func() error {
		for _, h := range hosts {
			if got, err := seen(h, nil, "X-Request-Id"); err != nil || got != "" {
				return fmt.Errorf("%s: X-Request-ID %q (%v)", h, got, err)
			}
		}
		return nil
	})
	send := map[string]string{"X-Request-ID": "trace-2", "X-Forwarded-Host": "public.example.org", "X-Forwarded-Proto": "https"}
	for _, h := range hosts {
		for name, want := range map[string]string{"X-Request-Id": "trace-2", "X-Forwarded-Host": "public.example.org", "X-Forwarded-Proto": "https"} {
			if got, err := seen(h, send, name); err != nil || got != want {
				t.Errorf("%s: %s reached the backend as %q (%v), want %q", h, name, got, err, want)
			}
		}
	}
}
