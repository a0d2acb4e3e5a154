package incluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// The chart's release on this cluster, beside deploy/portico.yaml's
// controller: an IngressClass of its own so the two never serve the same
// Ingress.
const (
	helmNS      = "portico-helm"
	helmRelease = "portico"
	helmClass   = "portico-helm"
)

// helm runs the pinned helm as the cluster's admin, in the repository's
// root, and returns its stdout; the error holds stderr.
func helm(args ...string) (string, error) {
	home := filepath.Join(env.workDir, "helm")
	return clusterCommand(4*time.Minute, nil, []string{"HELM_CACHE_HOME=" + home + "/cache", "HELM_CONFIG_HOME=" + home + "/config",
		"HELM_DATA_HOME=" + home + "/data"}, env.helm, args...)
}

// Portico's Helm chart installed with helm: the controller becomes Ready
// under the chart's RBAC, serves an Ingress of its class and a TCP
// service of the chart's tcp: value to clients outside its Pod, and its
// validating webhook, with the certificate the chart made, refuses a bad
// one. helm upgrade with a changed controller.config value applies it
// without restarting the controller, and keeps the webhook's certificate.
func TestHelmChartInstall(t *testing.T) {
	ctx := context.Background()
	if _, err := kubectl("apply", "-f", "e2e/incluster/testdata/tcp-echo.yaml"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = kubectl("delete", "-f", "e2e/incluster/testdata/tcp-echo.yaml", "--wait=false") })
	if _, err := helm("install", helmRelease, "deploy/helm/portico", "--namespace", helmNS, "--create-namespace",
		"--set", "controller.replicaCount=1",
		"--set", "tcp."+strconv.Itoa(helmTCPPort)+"=ingress-lab/tcp-echo:echo",
		"--set", "controller.ingressClass="+helmClass,
		"--set", "controller.ingressClassResource.name="+helmClass,
		"--set", "controller.ingressClassResource.controllerValue=k8s.io/"+helmClass,
		"--set", "controller.service.type=ClusterIP",
		"--wait", "--timeout=3m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := helm("uninstall", helmRelease, "--namespace", helmNS, "--wait", "--timeout=2m"); err != nil {
			t.Errorf("uninstall: %v", err)
		}
		_, _ = kubectl("delete", "namespace", helmNS, "--wait=false")
	})
	pod := helmControllerPod(t)

	// An Ingress of the release's class, to the seed's api-service.
	ing := strings.Replace(string(apiIngress("helm-web")), "ingressClassName: nginx", "ingressClassName: "+helmClass, 1)
	// Until kube-proxy routes the webhook Service's new cluster IP, the API
	// server's calls to it fail (failurePolicy Fail).
	framework.WaitFor(t, 30*time.Second, "an Ingress of the release's class admitted", func() error {
		_, err := kubectlIn([]byte(ing), "apply", "-f", "-")
		if err != nil && !strings.Contains(err.Error(), "failed calling webhook") {
			t.Fatal(err)
		}
		return err
	})
	t.Cleanup(func() { _, _ = kubectl("delete", "ingress", "-n", "ingress-lab", "helm-web") })
	framework.WaitFor(t, time.Minute, "helm-web.example.com served by the chart's controller", func() error {
		status, from, body, err := get(podURL(pod, 80, "/"), "helm-web.example.com")
		if err == nil && (status != http.StatusOK || !strings.HasPrefix(from, "api-")) {
			err = fmt.Errorf("%d from %q: %.200s", status, from, body)
		}
		return err
	})
	// The chart's tcp: value, from this host to the controller Pod's port:
	// the echo Pod greets, names nginx's address as its client, and
	// echoes.
	if _, err := kubectl("wait", "-n", "ingress-lab", "--for=condition=Available", "deploy/tcp-echo", "--timeout=60s"); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, time.Minute, "the TCP service on the chart's controller", func() error {
		return tcpEcho(net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(helmTCPPort)), "tcp-echo-", pod.Status.PodIP)
	})
	// portico conf in the Pod: the server block, and the echo Pod as the
	// endpoint its peer file lists.
	echoPods := pods(t, "ingress-lab", "app=tcp-echo")
	if len(echoPods) != 1 {
		t.Fatalf("%d tcp-echo Pods", len(echoPods))
	}
	out, err := kubectl("exec", "-n", helmNS, pod.Name, "--", "portico", "conf", "--service", "tcp/"+strconv.Itoa(helmTCPPort))
	for _, want := range []string{"listen " + strconv.Itoa(helmTCPPort) + ";", "#   " + echoPods[0].Status.PodIP + ":9000"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("portico conf --service tcp/%d in the Pod: %v, want %q:\n%s", helmTCPPort, err, want, out)
		}
	}

	// deploy/portico.yaml's controller does not serve that class.
	if status, _, _, err := get(podURL(readyControllers(t)[0], 80, "/"), "helm-web.example.com"); err != nil || status != http.StatusNotFound {
		t.Errorf("the other controller answers helm-web.example.com: %d %v", status, err)
	}

	// The webhook, through the chart's Service and certificate.
	vwc := func() []byte {
		w, err := env.client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, helmRelease+"-admission", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return w.Webhooks[0].ClientConfig.CABundle
	}
	caBefore := vwc()
	bad := strings.Replace(string(apiIngress("helm-bad", `nginx.ingress.kubernetes.io/proxy-body-size: "lots"`)),
		"ingressClassName: nginx", "ingressClassName: "+helmClass, 1)
	var msg string
	framework.WaitFor(t, 30*time.Second, "the bad Ingress refused by the chart's webhook", func() error {
		_, err := kubectlIn([]byte(bad), "apply", "-f", "-")
		if err == nil {
			_, _ = kubectl("delete", "ingress", "-n", "ingress-lab", "helm-bad")
			t.Fatal("kubectl apply of proxy-body-size: lots succeeded")
		}
		msg = err.Error()
		if strings.Contains(msg, "failed calling webhook") {
			return err
		}
		return nil
	})
	if !strings.Contains(msg, `admission webhook "validate.nginx.ingress.kubernetes.io" denied the request`) || !strings.Contains(msg, "proxy-body-size") {
		t.Errorf("kubectl apply's error: %s", msg)
	}

	// helm upgrade with a controller.config value: applied, no restart.
	if _, err := helm("upgrade", helmRelease, "deploy/helm/portico", "--namespace", helmNS, "--reuse-values",
		"--set", "controller.config.proxy-body-size=1k", "--wait", "--timeout=3m"); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, time.Minute, "proxy-body-size 1k from controller.config", func() error {
		req, _ := http.NewRequest(http.MethodPost, podURL(pod, 80, "/"), bytes.NewReader(make([]byte, 4096)))
		req.Host = "helm-web.example.com"
		resp, err := env.http.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			return fmt.Errorf("a 4 KiB body: %d", resp.StatusCode)
		}
		return nil
	})
	after := helmControllerPod(t)
	if after.Name != pod.Name || after.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("the controller restarted: %s (restarts %d), was %s", after.Name, after.Status.ContainerStatuses[0].RestartCount, pod.Name)
	}
	if !bytes.Equal(vwc(), caBefore) {
		t.Error("helm upgrade changed the webhook's CA")
	}

	// ingress-nginx's families, from inside the image: nginx's processes
	// (/proc) and connections (stub_status), the request just counted,
	// under this Pod's name.
	framework.WaitFor(t, 30*time.Second, "ingress-nginx's families on /metrics", func() error {
		_, _, body, err := get(podURL(pod, 10254, "/metrics"), "")
		if err != nil {
			return err
		}
		podLabel := `controller_pod="` + pod.Name + `"`
		for _, want := range []string{"nginx_ingress_controller_nginx_process_num_procs{", "nginx_ingress_controller_nginx_process_resident_memory_bytes{",
			`nginx_ingress_controller_nginx_process_connections{`, `nginx_ingress_controller_requests{`, "nginx_ingress_controller_config_last_reload_successful{"} {
			found := false
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(line, want) && strings.Contains(line, podLabel) && !strings.HasSuffix(line, " 0") {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("no %s...%s} with a value", want, podLabel)
			}
		}
		return nil
	})

	// Nothing the controller asked for was forbidden.
	logs, err := kubectl("logs", "-n", helmNS, pod.Name)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(logs), "forbidden") {
		t.Errorf("the controller's log says forbidden:\n%s", logs)
	}
}

// helmTCPPort is the release's TCP service port (values tcp:).
const helmTCPPort = 9000

// tcpEcho connects to addr, reads the TCP echo's greeting, "pod=<pod>
// client=<address:port>", and wants a pod named podPrefix... and the
// client clientIP, then a line echoed.
func tcpEcho(addr, podPrefix, clientIP string) error {
	c, err := framework.DialStreamEcho(addr, nil, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if !strings.HasPrefix(c.Pod, podPrefix) || !strings.HasPrefix(c.Client, clientIP+":") {
		return fmt.Errorf("greeting %q, want pod=%s... client=%s:...", c.Greeting, podPrefix, clientIP)
	}
	return c.Echoes("ping through the TCP service", 5*time.Second)
}

// helmControllerPod waits for the release's one controller Pod to be
// Running and Ready and returns it.
func helmControllerPod(t *testing.T) corev1.Pod {
	t.Helper()
	var p corev1.Pod
	framework.WaitFor(t, 2*time.Minute, "the chart's controller Ready", func() error {
		ps := pods(t, helmNS, "app.kubernetes.io/instance="+helmRelease+",app.kubernetes.io/component=controller")
		if len(ps) != 1 {
			return fmt.Errorf("%d controller Pods", len(ps))
		}
		p = ps[0]
		if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
			return fmt.Errorf("%s: %s, Ready %t", p.Name, p.Status.Phase, podReady(&p))
		}
		return nil
	})
	return p
}
