package controller

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// Two replicas on one Lease: exactly one leads, and when it stops the
// other takes over, without waiting for the lease to expire.
func TestElectionOneLeaderThenTakeover(t *testing.T) {
	client := fake.NewClientset()
	cfg := Election{Namespace: "ingress-nginx", ID: "ingress-nginx-leader",
		LeaseDuration: time.Minute, RenewDeadline: 40 * time.Second, RetryPeriod: 50 * time.Millisecond}
	started := make(chan string, 4)
	newReplica := func(name string) (*elector, context.CancelFunc, chan struct{}) {
		c := cfg
		c.Identity = name
		e := &elector{cfg: c, client: client, log: zap.NewNop(), onStart: func() { started <- name }}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.run(ctx); close(done) }()
		return e, cancel, done
	}
	a, stopA, doneA := newReplica("pod-a")
	first := waitStarted(t, started)
	b, stopB, doneB := newReplica("pod-b")
	defer func() { stopB(); <-doneB }()
	if first != "pod-a" || !a.Leading() {
		t.Fatalf("first leader %s, a leading %v", first, a.Leading())
	}
	// b campaigns many retry periods long without winning.
	time.Sleep(500 * time.Millisecond)
	if b.Leading() {
		t.Fatal("both replicas lead")
	}
	stopA()
	<-doneA
	if a.Leading() {
		t.Fatal("a still leads after it stopped")
	}
	// The lease duration is a minute: taking over sooner proves a released it.
	if got := waitStarted(t, started); got != "pod-b" || !b.Leading() {
		t.Fatalf("leader after a stopped: %s", got)
	}
	lease, err := client.CoordinationV1().Leases("ingress-nginx").Get(context.Background(), "ingress-nginx-leader", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "pod-b" {
		t.Fatalf("lease holder %v", lease.Spec.HolderIdentity)
	}
}

func waitStarted(t *testing.T, started chan string) string {
	t.Helper()
	select {
	case name := <-started:
		return name
	case <-time.After(10 * time.Second):
		t.Fatal("nobody started leading within 10s")
		return ""
	}
}
