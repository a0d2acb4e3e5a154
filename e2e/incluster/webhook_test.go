package incluster

import (
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// The validating webhook of deploy/webhook/, set up as its steps say: an
// Ingress with a bad annotation is refused at kubectl apply with the
// model's message; a good one is admitted.
func TestValidatingWebhook(t *testing.T) {
	readyControllers(t)
	dir := t.TempDir()
	caPEM, certPEM, keyPEM, err := framework.NewServingCert("ingress-nginx-controller-admission.ingress-nginx.svc")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// 1. The serving certificate's Secret.
	if _, err := kubectl("create", "secret", "tls", "ingress-nginx-admission", "-n", controllerNS,
		"--cert="+filepath.Join(dir, "tls.crt"), "--key="+filepath.Join(dir, "tls.key")); err != nil {
		t.Fatal(err)
	}
	// 2. The replicas serve the webhook.
	if _, err := kubectl("patch", "deployment", controllerDeploy, "-n", controllerNS,
		"--patch-file", "deploy/webhook/deployment-patch.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := kubectl("rollout", "status", "-n", controllerNS, "deploy/"+controllerDeploy, "--timeout=3m"); err != nil {
		t.Fatal(err)
	}
	readyControllers(t)
	// 3. and 4. The CA into caBundle; register.
	manifest, err := os.ReadFile(filepath.Join(env.root, "deploy", "webhook", "webhook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const placeholder = `caBundle: ""`
	if !strings.Contains(string(manifest), placeholder) {
		t.Fatalf("deploy/webhook/webhook.yaml has no %s to fill", placeholder)
	}
	filled := strings.Replace(string(manifest), placeholder, "caBundle: "+base64.StdEncoding.EncodeToString(caPEM), 1)
	if _, err := kubectlIn([]byte(filled), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	// Later tests run without the webhook: it refuses Ingress changes
	// while no replica answers.
	t.Cleanup(func() {
		_, _ = kubectl("delete", "validatingwebhookconfiguration", "portico-ingress-validation")
		_, _ = kubectl("delete", "ingress", "-n", "ingress-lab", "webhook-good")
	})

	ingress := func(name, bodySize string) []byte {
		return apiIngress(name, `nginx.ingress.kubernetes.io/proxy-body-size: "`+bodySize+`"`)
	}
	// kube-proxy takes a moment to route the new Service's cluster IP;
	// until then the API server's calls time out.
	svc, err := env.client.CoreV1().Services(controllerNS).Get(context.Background(), "ingress-nginx-controller-admission", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, 30*time.Second, "the webhook Service routed", func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(svc.Spec.ClusterIP, "443"), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	var msg string
	framework.WaitFor(t, 30*time.Second, "the bad Ingress refused by the webhook", func() error {
		_, err := kubectlIn(ingress("webhook-bad", "lots"), "apply", "-f", "-")
		if err == nil {
			_, _ = kubectl("delete", "ingress", "-n", "ingress-lab", "webhook-bad")
			t.Fatal("kubectl apply of proxy-body-size: lots succeeded")
		}
		msg = err.Error()
		if strings.Contains(msg, "failed calling webhook") {
			return err
		}
		return nil
	})
	for _, want := range []string{`admission webhook "validate.portico.ingress-nginx.io" denied the request`, "proxy-body-size", `"lots"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("kubectl apply's error lacks %q:\n%s", want, msg)
		}
	}
	if _, err := kubectlIn(ingress("webhook-good", "8m"), "apply", "-f", "-"); err != nil {
		t.Errorf("a good Ingress: %v", err)
	}
}
