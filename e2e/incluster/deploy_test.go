package incluster

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// seedRoutes are the seed Ingresses' requests (hack/dev/manifests) and the
// Service whose Pods answer them, with the path the Pod sees
// (rewrite-target: /).
var seedRoutes = []struct {
	host, path string
	podPrefix  string
	seenPath   string
}{
	{"app.example.com", "/api/users", "api-", "/"},
	{"app.example.com", "/", "frontend-", "/"},
	{"api.example.com", "/v1/items", "api-", "/v1/items"},
	{"", "/lobby", "game-lobby-", "/"},
	{"", "/room/7", "game-room-", "/"},
	{"", "/chat", "game-chat-", "/"},
	{"", "/ranking", "game-ranking-", "/"},
}

// deploy/portico.yaml as a user applies it: both replicas Running and
// Ready; kubectl exec shows nginx.conf and portico conf; the seed
// Ingresses answer through the NodePort and through each replica.
func TestControllerInstalled(t *testing.T) {
	ctrls := readyControllers(t)

	conf, err := kubectl("exec", "-n", controllerNS, "deploy/"+controllerDeploy, "--", "cat", "/etc/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# checksum ", "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;", "listen 80"} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx.conf in the Pod lacks %q", want)
		}
	}
	out, err := kubectl("exec", "-n", controllerNS, "deploy/"+controllerDeploy, "--", "portico", "conf", "--host", "app.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"app.example.com", "/api", "ingress-lab/api-service", "ingress-lab/frontend-service"} {
		if !strings.Contains(out, want) {
			t.Errorf("portico conf --host app.example.com lacks %q:\n%s", want, out)
		}
	}

	via := map[string]string{"NodePort": nodeURL("")}
	for _, p := range ctrls {
		via["Pod "+p.Name] = podURL(p, 80, "")
	}
	for name, base := range via {
		for _, r := range seedRoutes {
			status, resp, body, err := framework.GetEcho(env.http, base+r.path, r.host)
			if err != nil {
				t.Errorf("%s: %s%s: %v", name, r.host, r.path, err)
				continue
			}
			if status != 200 || resp == nil || !strings.HasPrefix(resp.Pod, r.podPrefix) || resp.Path != r.seenPath {
				t.Errorf("%s: %s%s: %d %.200s; want 200 from %s* seeing %s", name, r.host, r.path, status, body, r.podPrefix, r.seenPath)
			}
		}
	}
}

// controllerPodFor returns the controller Pod named name among pods.
func controllerPodFor(pods []corev1.Pod, name string) (corev1.Pod, error) {
	for _, p := range pods {
		if p.Name == name {
			return p, nil
		}
	}
	return corev1.Pod{}, fmt.Errorf("no controller Pod %s", name)
}
