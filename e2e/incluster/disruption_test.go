package incluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// maxLoad bounds every request loop: at about 40 requests a second, a
// few minutes.
const maxLoad = 8000

// A rolling update of the controller under a request loop through the
// NodePort: no request fails (readiness, the preStop sleep while kube-proxy
// forgets the old Pod, nginx draining on SIGTERM), and every replica is
// new afterwards.
func TestRollingUpdate(t *testing.T) {
	before := readyControllers(t)
	stop := newStopper()
	defer stop.stop()
	l := startLoad(nodeURL("/api/rollout"), "app.example.com", "api-", maxLoad, stop.ch)
	time.Sleep(time.Second)
	if _, err := kubectl("rollout", "restart", "-n", controllerNS, "deploy/"+controllerDeploy); err != nil {
		t.Fatal(err)
	}
	if _, err := kubectl("rollout", "status", "-n", controllerNS, "deploy/"+controllerDeploy, "--timeout=3m"); err != nil {
		t.Fatal(err)
	}
	after := readyControllers(t)
	waitGone(t, before...)
	stop.stop()
	l.check(t, "rolling update")
	for _, p := range after {
		if slices.ContainsFunc(before, func(b corev1.Pod) bool { return b.Name == p.Name }) {
			t.Errorf("replica %s survived the rollout", p.Name)
		}
	}
}

// The PodDisruptionBudget lets one replica be evicted at a time (a node
// drain): the second eviction is refused while the first one's
// replacement is not Ready, and no request fails meanwhile.
func TestEvictionKeepsOneReplica(t *testing.T) {
	ctrls := readyControllers(t)
	stop := newStopper()
	defer stop.stop()
	l := startLoad(nodeURL("/api/evict"), "app.example.com", "api-", maxLoad, stop.ch)
	evict := func(p corev1.Pod) error {
		return env.client.CoreV1().Pods(controllerNS).EvictV1(context.Background(), &policyv1.Eviction{
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: controllerNS}})
	}
	if err := evict(ctrls[0]); err != nil {
		t.Fatalf("first eviction: %v", err)
	}
	err := evict(ctrls[1])
	if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "disruption budget") {
		t.Fatalf("second eviction while the first replica is replaced: %v, want 429 naming the disruption budget", err)
	}
	readyControllers(t)
	waitGone(t, ctrls[0])
	stop.stop()
	l.check(t, "eviction")
}

// Deleting the replica that holds the Lease: the other one takes it and
// writes the status of a new Ingress; traffic keeps flowing.
func TestLeaderPodDeleted(t *testing.T) {
	ctx := context.Background()
	ctrls := readyControllers(t)
	leader, err := leaseHolder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := controllerPodFor(ctrls, leader); err != nil {
		t.Fatalf("the Lease holder: %v", err)
	}
	stop := newStopper()
	defer stop.stop()
	l := startLoad(nodeURL("/api/leader"), "app.example.com", "api-", maxLoad, stop.ch)
	if _, err := kubectl("delete", "pod", "-n", controllerNS, leader, "--wait=false"); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, time.Minute, "another replica holds the Lease", func() error {
		h, err := leaseHolder()
		if err == nil && h == leader {
			err = fmt.Errorf("still held by %s", leader)
		}
		return err
	})
	waitGone(t, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: leader}})
	newLeader, err := leaseHolder()
	if err != nil {
		t.Fatal(err)
	}
	if newLeader == leader {
		t.Fatalf("Lease held by the deleted %s", leader)
	}
	// Status written now can only come from the new leader.
	if _, err := kubectlIn(apiIngress("status-check"), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = kubectl("delete", "ingress", "-n", "ingress-lab", "status-check") })
	framework.WaitFor(t, time.Minute, "the new Ingress's status holds the node's address", func() error {
		ing, err := env.client.NetworkingV1().Ingresses("ingress-lab").Get(ctx, "status-check", metav1.GetOptions{})
		if err != nil {
			return err
		}
		lb := ing.Status.LoadBalancer.Ingress
		if len(lb) != 1 || lb[0].IP != env.cluster.NodeIP().String() {
			return fmt.Errorf("status %+v, want %s", lb, env.cluster.NodeIP())
		}
		return nil
	})
	readyControllers(t)
	stop.stop()
	l.check(t, "leader deleted")
}

// leaseHolder returns the holder of the controller's Lease.
func leaseHolder() (string, error) {
	l, err := env.client.CoordinationV1().Leases(controllerNS).Get(context.Background(), leaseName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return "", errors.New("the Lease has no holder")
	}
	return *l.Spec.HolderIdentity, nil
}

// waitGone waits until the controller Pods ps have terminated and are
// deleted: until then they may still take connections.
func waitGone(t *testing.T, ps ...corev1.Pod) {
	t.Helper()
	for _, p := range ps {
		framework.WaitFor(t, 2*time.Minute, p.Name+" gone", func() error {
			_, err := env.client.CoreV1().Pods(controllerNS).Get(context.Background(), p.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
	}
}
