package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// diagnoseRun runs the built `portico diagnose` against the stack and
// returns its output and exit code.
func diagnoseRun(t *testing.T, luaURL string, args ...string) (string, int) {
	t.Helper()
	if luaURL == "" {
		luaURL = fmt.Sprintf("http://127.0.0.1:%d", env.portico.statusPort)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.binary, append([]string{"diagnose",
		"--kubeconfig=" + env.cp.Kubeconfig(),
		fmt.Sprintf("--controller-url=http://127.0.0.1:%d", env.portico.healthzPort),
		"--lua-url=" + luaURL,
	}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("portico diagnose: %v\n%s", err, out.String())
	return "", 0
}

// diagnoseUntil reruns diagnose until its output holds every want (the
// controller may still be syncing), then checks the exit code.
func diagnoseUntil(t *testing.T, luaURL, target string, code int, want ...string) string {
	t.Helper()
	var out string
	var got int
	eventually(t, "portico diagnose "+target, func() error {
		out, got = diagnoseRun(t, luaURL, target)
		for _, w := range want {
			if !strings.Contains(out, w) {
				return fmt.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		return nil
	})
	if got != code {
		t.Errorf("portico diagnose %s: exit code %d, want %d\n%s", target, got, code, out)
	}
	return out
}

// Seed 000: every Pod is Running but its readiness probe fails, so the
// request fails; one command names the endpoints hop, the Pod and the
// probe's message. Once the Pod is ready, every hop is ✓ and exit is 0.
func TestDiagnoseSeedReadiness(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "diag-seed")
	a := newApp(t, ns, "api-service", 1, "")
	p := a.pods[0]
	pod, err := env.client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: p.name, Labels: map[string]string{"app": "api"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "hashicorp/http-echo",
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstrPort(5678)}}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = p.host.Addr().String()
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: metav1.Now()},
	}
	if _, err := env.client.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	probeMsg := fmt.Sprintf(`Readiness probe failed: Get "http://%s:5678/health": dial tcp %s:5678: connect: connection refused`, p.host.Addr(), p.host.Addr())
	if _, err := env.client.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: p.name + ".probe"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: p.name, UID: pod.UID},
		Type:           corev1.EventTypeWarning, Reason: "Unhealthy", Message: probeMsg, Count: 12,
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(),
		Source: corev1.EventSource{Component: "kubelet"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p.ready = false
	a.syncSlice(t, "")
	createIngress(t, newIngress(ns, "api", nil, hostRule("seed.diag.example.com", prefixPath("/api", "api-service"))))

	r := answers(t, "seed.diag.example.com", "/api", 503)
	t.Logf("request answered %d %s", r.code, short(r.body))
	out := diagnoseUntil(t, "", "seed.diag.example.com/api", 1,
		"✗  endpoints  Service "+ns+"/api-service port 80: 0 ready, 1 not ready, 0 terminating",
		"Pod "+ns+"/"+p.name+" ("+p.host.Addr().String()+"): phase Running, Ready=False (ContainersNotReady)",
		"last Warning event: Unhealthy: "+probeMsg+" (×12)",
		"✗ broken at endpoints: no endpoint is ready: Pod "+ns+"/"+p.name+" fails its readiness probe",
		"✓  nginx",
		// What nginx holds for a backend without endpoints reads too.
		"Lua backend "+ns+"/api-service:80: 0 endpoints (round_robin)")
	t.Logf("diagnose:\n%s", out)

	// The probe passes again: the endpoint turns ready, all hops are ✓.
	p.ready = true
	a.syncSlice(t, "")
	servedBy(t, "seed.diag.example.com", "/api", a)
	out = diagnoseUntil(t, "", "seed.diag.example.com/api", 0,
		"✓  endpoints  Service "+ns+"/api-service port 80: 1 ready, 0 not ready, 0 terminating",
		"✓  nginx      nginx runs the current config and holds backend "+ns+"/api-service:80",
		"✓ no hop is broken")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if strings.HasPrefix(line, "✗") || strings.HasPrefix(line, "!") {
			t.Errorf("healthy path has a broken hop: %q", line)
		}
	}
}

// Each other break is named at its hop, with exit code 1.
func TestDiagnoseBreaks(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "diag")
	a := newApp(t, ns, "web", 1, "http")
	named := func(path, svc, port string) networkingv1.HTTPIngressPath {
		pt := networkingv1.PathTypePrefix
		return networkingv1.HTTPIngressPath{Path: path, PathType: &pt, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: port}}}}
	}

	t.Run("missing Service", func(t *testing.T) {
		createIngress(t, newIngress(ns, "gone", nil, hostRule("gone.diag.example.com", prefixPath("/", "gone"))))
		answers(t, "gone.diag.example.com", "/", 503)
		diagnoseUntil(t, "", "gone.diag.example.com/", 1,
			"✗  service    Service "+ns+"/gone does not exist: requests get 503", "✗ broken at service: create Service "+ns+"/gone")
	})

	t.Run("wrong port name", func(t *testing.T) {
		createIngress(t, newIngress(ns, "port", nil, hostRule("port.diag.example.com", named("/", "web", "https"))))
		answers(t, "port.diag.example.com", "/", 503)
		diagnoseUntil(t, "", "port.diag.example.com/x", 1,
			"Service "+ns+"/web has no port with name https (its ports: http/80→8080)", "✗ broken at service: set the Ingress backend.service.port to one of: http/80→8080")
	})

	t.Run("class not ours", func(t *testing.T) {
		if _, err := env.client.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
			ObjectMeta: metav1.ObjectMeta{Name: "diag-other"}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/other"},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = env.client.NetworkingV1().IngressClasses().Delete(ctx, "diag-other", metav1.DeleteOptions{})
		})
		ing := newIngress(ns, "theirs", nil, hostRule("theirs.diag.example.com", prefixPath("/", "web")))
		cls := "diag-other"
		ing.Spec.IngressClassName = &cls
		createIngress(t, ing)
		if r := get(t, "theirs.diag.example.com", "/"); r.code != 404 {
			t.Errorf("Ingress of another class is served: %d", r.code)
		}
		diagnoseUntil(t, "", "theirs.diag.example.com", 1,
			`Ingress `+ns+`/theirs: not ours: ingressClassName "diag-other": IngressClass controller example.com/other is not ours`,
			"✗ broken at class: set spec.ingressClassName to an IngressClass whose spec.controller is k8s.io/ingress-nginx")
	})

	t.Run("missing TLS Secret", func(t *testing.T) {
		ing := newIngress(ns, "tls", nil, hostRule("tls.diag.example.com", prefixPath("/", "web")))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"tls.diag.example.com"}, SecretName: "tls-missing"}}
		createIngress(t, ing)
		eventually(t, "tls.diag.example.com served", func() error {
			r, err := tryGet("tls.diag.example.com", "/")
			if err == nil && r.code == 404 {
				err = errors.New("404")
			}
			return err
		})
		diagnoseUntil(t, "", "tls.diag.example.com/", 1,
			"✓  endpoints", "✗  tls        host tls.diag.example.com is listed under spec.tls but has no usable certificate",
			"secret "+ns+"/tls-missing does not exist", "✗ broken at tls: create the TLS Secret")
	})

	t.Run("backend not in Lua", func(t *testing.T) {
		createIngress(t, newIngress(ns, "ok", nil, hostRule("ok.diag.example.com", prefixPath("/", "web"))))
		servedBy(t, "ok.diag.example.com", "/", a)
		diagnoseUntil(t, "", "ok.diag.example.com/", 0, "✓ no hop is broken")
		// A Lua state that lacks the backend, as before a push lands.
		empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/configuration/backends" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"backends":[]}`)
		}))
		defer empty.Close()
		diagnoseUntil(t, empty.URL, "ok.diag.example.com/", 1,
			"✗  nginx      the Lua balancer does not hold backend "+ns+"/web:80 (it holds 0 backends): requests get 503",
			"✗ broken at nginx")
	})
}

func intstrPort(p int) intstr.IntOrString { return intstr.FromInt(p) }

// conf and backends read what the running controller and nginx hold.
func TestConfAndBackendsCommands(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "inspect")
	a := newApp(t, ns, "shop", 2, "")
	createIngress(t, newIngress(ns, "shop", nil, hostRule("shop.inspect.example.com", prefixPath("/", "shop"))))
	servedBy(t, "shop.inspect.example.com", "/", a)
	run := func(args ...string) string { return runPortico(t, args...) }
	lua := fmt.Sprintf("--lua-url=http://127.0.0.1:%d", env.portico.statusPort)
	// A plain host has no server block: conf shows the Lua router's routes
	// for it and the catch-all server that runs the router.
	conf := run("conf", "--host", "shop.inspect.example.com", fmt.Sprintf("--controller-url=http://127.0.0.1:%d", env.portico.healthzPort), lua)
	for _, want := range []string{"# shop.inspect.example.com has no server block", "# The Lua router's routes for shop.inspect.example.com",
		"#   location \"/\" → backend " + ns + "/shop:80 (Ingress " + ns + "/shop, path /)", `server_name "_";`, "portico_router.route("} {
		if !strings.Contains(conf, want) {
			t.Errorf("conf --host lacks %q:\n%s", want, conf)
		}
	}
	// An Ingress nginx.conf must serve gets its own server block.
	createIngress(t, newIngress(ns, "rewritten", needsServerBlock(), hostRule("static.inspect.example.com", prefixPath("/x", "shop"))))
	servedBy(t, "static.inspect.example.com", "/x", a)
	conf = run("conf", "--host", "static.inspect.example.com", fmt.Sprintf("--controller-url=http://127.0.0.1:%d", env.portico.healthzPort), lua)
	if !strings.Contains(conf, `server_name "static.inspect.example.com";`) || strings.Count(conf, "server_name") != 1 || strings.Contains(conf, "Lua router") {
		t.Errorf("conf --host: want exactly the static server block:\n%s", conf)
	}
	if local := run("conf", "--config-dir", env.portico.configDir); !strings.Contains(local, `server_name "static.inspect.example.com";`) {
		t.Errorf("conf --config-dir lacks the static server")
	}
	table := run("backends", lua, ns+"/shop")
	for _, p := range a.pods {
		if !strings.Contains(table, p.host.Addr().String()+":8080") {
			t.Errorf("backends table lacks %s:\n%s", p.host.Addr(), table)
		}
	}
	var got struct {
		Backends []struct {
			Name      string `json:"name"`
			Endpoints []struct {
				Address string `json:"address"`
			} `json:"endpoints"`
		} `json:"backends"`
	}
	if err := json.Unmarshal([]byte(run("backends", lua, "-o", "json", ns+"/shop:80")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Backends) != 1 || got.Backends[0].Name != ns+"/shop:80" || len(got.Backends[0].Endpoints) != 2 {
		t.Errorf("backends -o json: %+v", got)
	}
}
