package incluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// podReady reports whether p's Ready condition is True.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// pods lists the Pods of ns matching selector that are not being deleted,
// by name.
func pods(t *testing.T, ns, selector string) []corev1.Pod {
	t.Helper()
	list, err := env.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// readyControllers waits until the controller Deployment has exactly its
// 2 replicas, all Running and Ready, none being deleted, and returns them.
func readyControllers(t *testing.T) []corev1.Pod {
	t.Helper()
	var ready []corev1.Pod
	framework.WaitFor(t, 2*time.Minute, "2 controller replicas Running and Ready", func() error {
		all, err := env.client.CoreV1().Pods(controllerNS).List(context.Background(), metav1.ListOptions{LabelSelector: controllerLabels})
		if err != nil {
			return err
		}
		ready = ready[:0]
		for _, p := range all.Items {
			if p.DeletionTimestamp != nil {
				return fmt.Errorf("%s is being deleted", p.Name)
			}
			if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
				return fmt.Errorf("%s: %s, Ready %t", p.Name, p.Status.Phase, podReady(&p))
			}
			ready = append(ready, p)
		}
		if len(ready) != 2 {
			return fmt.Errorf("%d replicas", len(ready))
		}
		return nil
	})
	return ready
}

// get sends GET url with Host host (unless empty) and returns the status,
// the pod that answered (X-Echo-Pod) and the body.
func get(url, host string) (int, string, string, error) {
	status, resp, body, err := framework.GetEcho(env.http, url, host)
	pod := ""
	if resp != nil {
		pod = resp.Pod
	}
	return status, pod, string(body), err
}

// nodeURL is a URL of path on the NodePort of deploy/nodeport.yaml.
func nodeURL(path string) string {
	return fmt.Sprintf("http://%s:%d%s", env.cluster.NodeIP(), nodePort, path)
}

// podURL is a URL of path on port of a Pod.
func podURL(p corev1.Pod, port int, path string) string {
	return fmt.Sprintf("http://%s:%d%s", p.Status.PodIP, port, path)
}

// load sends GET url with Host host, one request at a time on a new
// connection each, until stop is closed or max requests have gone, and
// counts the answers that are not 200 from a pod of the wanted prefix.
type load struct {
	sent, failed int
	failures     []string // the first few
	done         chan struct{}
}

func startLoad(url, host, podPrefix string, max int, stop <-chan struct{}) *load {
	l := &load{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for l.sent < max {
			select {
			case <-stop:
				return
			default:
			}
			l.sent++
			status, pod, body, err := get(url, host)
			if err == nil && (status != http.StatusOK || !strings.HasPrefix(pod, podPrefix)) {
				err = fmt.Errorf("%d from %q: %.100s", status, pod, body)
			}
			if err != nil {
				l.failed++
				if len(l.failures) < 5 {
					l.failures = append(l.failures, time.Now().Format("15:04:05.000")+" "+err.Error())
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return l
}

// wait waits for the loop to end and fails t if a request failed or none
// was sent.
func (l *load) check(t *testing.T, what string) {
	t.Helper()
	<-l.done
	t.Logf("%s: %d requests, %d failed", what, l.sent, l.failed)
	if l.failed > 0 || l.sent == 0 {
		t.Errorf("%s: %d of %d requests failed: %s", what, l.failed, l.sent, strings.Join(l.failures, "; "))
	}
}

// stopper closes a channel once.
type stopper struct {
	once sync.Once
	ch   chan struct{}
}

func newStopper() *stopper { return &stopper{ch: make(chan struct{})} }
func (s *stopper) stop()   { s.once.Do(func() { close(s.ch) }) }

// apiIngress is an Ingress named name in ingress-lab routing
// <name>.example.com to api-service, with annotations (YAML lines, each
// "key: value"), for kubectl apply.
func apiIngress(name string, annotations ...string) []byte {
	meta := ""
	if len(annotations) > 0 {
		meta = "\n  annotations:\n    " + strings.Join(annotations, "\n    ")
	}
	return []byte(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ` + name + `
  namespace: ingress-lab` + meta + `
spec:
  ingressClassName: nginx
  rules:
  - host: ` + name + `.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: api-service
            port:
              number: 80
`)
}
