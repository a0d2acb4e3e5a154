package incluster

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// A controller Pod whose nginx cannot start (another container of the Pod
// holds :80) runs but never turns Ready: /healthz answers 503 about nginx,
// the log says why.
func TestNginxCannotStartNotReady(t *testing.T) {
	ctx := context.Background()
	const name = "nginx-cannot-start"
	pod := `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  namespace: ingress-nginx
spec:
  serviceAccountName: ingress-nginx
  terminationGracePeriodSeconds: 5
  containers:
  - name: squatter
    image: portico-echoserver:dev
    imagePullPolicy: Never
    args: [--listen=:80, --pod=squatter]
    securityContext: {runAsUser: 0}
  - name: controller
    image: portico:dev
    imagePullPolicy: IfNotPresent
    # The Deployment's, without status: this Pod must not lead.
    args: [controller, --configmap=ingress-nginx/ingress-nginx-controller, --update-status=false, --shutdown-grace-period=1s]
    readinessProbe:
      httpGet: {path: /healthz, port: 10254}
      periodSeconds: 2
    securityContext:
      runAsNonRoot: true
      runAsUser: 101
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
`
	if _, err := kubectlIn([]byte(pod), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = kubectl("delete", "pod", "-n", controllerNS, name, "--wait=false") })
	var ip string
	healthz := func() error {
		status, _, body, err := get("http://"+ip+":10254/healthz", "")
		if err == nil && (status != http.StatusServiceUnavailable || !strings.Contains(body, "nginx")) {
			err = fmt.Errorf("/healthz: %d %q, want 503 naming nginx", status, body)
		}
		return err
	}
	framework.WaitFor(t, time.Minute, "the controller running, its /healthz and probe failing", func() error {
		p, err := env.client.CoreV1().Pods(controllerNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		running := false
		for _, cs := range p.Status.ContainerStatuses {
			running = running || cs.Name == "controller" && cs.State.Running != nil
		}
		if !running {
			return fmt.Errorf("controller container not running: %+v", p.Status.ContainerStatuses)
		}
		if p.Status.PodIP == "" {
			return fmt.Errorf("no Pod IP yet")
		}
		ip = p.Status.PodIP
		if err := healthz(); err != nil {
			return err
		}
		return probeEvent(ctx, name)
	})
	// Observed over several probe periods: never Ready, /healthz 503.
	for range 5 {
		p, err := env.client.CoreV1().Pods(controllerNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if podReady(p) {
			t.Fatal("the Pod whose nginx cannot bind :80 is Ready")
		}
		if err := healthz(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	logs, err := kubectl("logs", "-n", controllerNS, name, "-c", "controller")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "Address already in use") {
		t.Errorf("controller log does not say why nginx cannot start:\n%s", logs)
	}
}

// probeEvent returns nil once the Pod has a readiness probe failure Event.
func probeEvent(ctx context.Context, pod string) error {
	evs, err := env.client.CoreV1().Events(controllerNS).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod})
	if err != nil {
		return err
	}
	for _, e := range evs.Items {
		if e.Reason == "Unhealthy" && strings.Contains(e.Message, "Readiness probe failed") {
			return nil
		}
	}
	return fmt.Errorf("no readiness probe failure Event yet")
}

// On SIGTERM (after the preStop sleep) /healthz fails while nginx drains
// the request in flight, which still completes.
func TestHealthzFailsOnSIGTERM(t *testing.T) {
	ctrls := readyControllers(t)
	p := ctrls[0]
	slow := make(chan error, 1)
	go func() {
		// api.example.com has no rewrite: the Pod sleeps 10 s.
		status, pod, body, err := get(podURL(p, 80, "/__sleep/10000"), "api.example.com")
		if err == nil && (status != 200 || !strings.HasPrefix(pod, "api-")) {
			err = fmt.Errorf("%d from %q: %.100s", status, pod, body)
		}
		slow <- err
	}()
	time.Sleep(500 * time.Millisecond)
	if _, err := kubectl("delete", "pod", "-n", controllerNS, p.Name, "--wait=false"); err != nil {
		t.Fatal(err)
	}
	healthz := podURL(p, 10254, "/healthz")
	framework.WaitFor(t, 30*time.Second, "/healthz 503 shutting down", func() error {
		status, _, body, err := get(healthz, "")
		if err == nil && (status != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down")) {
			err = fmt.Errorf("%d %q", status, body)
		}
		return err
	})
	if err := <-slow; err != nil {
		t.Fatalf("the request in flight at SIGTERM: %v", err)
	}
	waitGone(t, p)
	readyControllers(t)
}

// The seed's "502 though every Pod is Running" (/work/shared/seeds 000), end
// to end: a backend Pod that fails its readiness probe leaves the
// endpoints within about a probe period, with no failed request and no
// reload; with every Pod unready the route answers 503 naming the cause,
// and portico diagnose names the Pod and its probe; once the probes pass
// again both Pods serve. nginx reloads never.
func TestReadinessTakesEndpointOut(t *testing.T) {
	ctx := context.Background()
	ctrls := readyControllers(t)
	reloads := func() map[string]string {
		out := map[string]string{}
		for _, c := range ctrls {
			_, _, body, err := get(podURL(c, 10254, "/metrics"), "")
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(line, "portico_nginx_reloads_total") {
					out[c.Name] += line + "\n"
				}
			}
		}
		return out
	}
	before := reloads()
	api := pods(t, "ingress-lab", "app=api")
	if len(api) != 2 {
		t.Fatalf("%d api Pods, want 2", len(api))
	}
	health := func(p corev1.Pod, state string) {
		t.Helper()
		resp, err := env.http.Post(podURL(p, 5678, "/__health/"+state), "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	t.Cleanup(func() {
		for _, p := range api {
			health(p, "ok")
		}
	})
	// onlyFrom waits until 20 requests in a row are answered by want.
	onlyFrom := func(want string) time.Duration {
		start := time.Now()
		framework.WaitFor(t, 15*time.Second, "only "+want+" answers", func() error {
			for range 20 {
				status, pod, body, err := get(nodeURL("/api/only"), "app.example.com")
				if err == nil && (status != 200 || pod != want) {
					err = fmt.Errorf("%d from %q: %.100s", status, pod, body)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		return time.Since(start)
	}

	stop := newStopper()
	defer stop.stop()
	l := startLoad(nodeURL("/api/readiness"), "app.example.com", "api-", maxLoad, stop.ch)
	failedAt := time.Now()
	health(api[0], "fail")
	took := onlyFrom(api[1].Name)
	t.Logf("%s out of the endpoints %v after its probe began failing", api[0].Name, time.Since(failedAt).Round(10*time.Millisecond))
	// Probe period 2 s; then the kubelet, the EndpointSlice controller
	// and a push to the Lua balancer.
	if took > 6*time.Second {
		t.Errorf("%s still served %v after its probe began failing, want within the probe period and a few seconds", api[0].Name, took)
	}
	if err := endpointReady(ctx, api[0], false); err != nil {
		t.Error(err)
	}
	stop.stop()
	l.check(t, "one backend unready")

	health(api[1], "fail")
	framework.WaitFor(t, 15*time.Second, "503 naming the cause once no Pod is ready", func() error {
		status, _, body, err := get(nodeURL("/api/none"), "app.example.com")
		if err == nil && (status != http.StatusServiceUnavailable || !strings.Contains(body, "ingress-lab/api-service")) {
			err = fmt.Errorf("%d %.200q", status, body)
		}
		return err
	})
	out, err := exec.Command(env.portico, "diagnose", "app.example.com/api", "--kubeconfig", env.cluster.Kubeconfig(),
		"--controller-url", "http://"+ctrls[0].Status.PodIP+":10254", "--lua-url", "").CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Errorf("portico diagnose: exit %d (%v), want 1:\n%s", code, err, out)
	}
	for _, want := range []string{"broken at endpoints", api[0].Name, api[1].Name, "Readiness probe failed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("portico diagnose lacks %q:\n%s", want, out)
		}
	}

	health(api[0], "ok")
	health(api[1], "ok")
	framework.WaitFor(t, 15*time.Second, "both Pods serve again", func() error {
		seen := map[string]bool{}
		for range 40 {
			status, pod, _, err := get(nodeURL("/api/back"), "app.example.com")
			if err != nil || status != 200 {
				return fmt.Errorf("%d %v", status, err)
			}
			seen[pod] = true
		}
		if !seen[api[0].Name] || !seen[api[1].Name] {
			return fmt.Errorf("answered by %v", seen)
		}
		return nil
	})
	if after := reloads(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("nginx reloaded: before\n%v\nafter\n%v", before, after)
	}
}

// endpointReady checks the Ready condition of p's endpoint in its
// Service's EndpointSlices.
func endpointReady(ctx context.Context, p corev1.Pod, want bool) error {
	slices, err := env.client.DiscoveryV1().EndpointSlices(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=api-service"})
	if err != nil {
		return err
	}
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.TargetRef != nil && e.TargetRef.Name == p.Name {
				if got := e.Conditions.Ready != nil && *e.Conditions.Ready; got != want {
					return fmt.Errorf("endpoint of %s: ready %t, want %t", p.Name, got, want)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("no endpoint of %s", p.Name)
}

// exitCode returns a command's exit code from its error.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
