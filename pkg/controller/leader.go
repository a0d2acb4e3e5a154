package controller

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Election configures leader election. Only the leader writes Ingress
// status; every replica serves traffic and reloads its own nginx.
type Election struct {
	// Namespace and ID name the coordination Lease.
	Namespace, ID string
	// Identity names this replica in the Lease (the pod name).
	Identity string
	// Zero durations mean 15s, 10s and 2s, as client-go suggests.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// elector runs an Election and says whether this replica leads.
type elector struct {
	cfg     Election
	client  kubernetes.Interface
	log     *zap.Logger
	onStart func() // called when this replica starts leading
	leading atomic.Bool
}

func (e *elector) Leading() bool { return e.leading.Load() }

// run campaigns until ctx ends; a lost lease means campaigning again. On
// ctx's end a held lease is released, so another replica takes over at once.
func (e *elector) run(ctx context.Context) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.ID},
		Client:     e.client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.cfg.Identity},
	}
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			Name:            e.cfg.ID,
			LeaseDuration:   or(e.cfg.LeaseDuration, 15*time.Second),
			RenewDeadline:   or(e.cfg.RenewDeadline, 10*time.Second),
			RetryPeriod:     or(e.cfg.RetryPeriod, 2*time.Second),
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) {
					e.log.Info("leading: this replica writes Ingress status", zap.String("lease", e.cfg.Namespace+"/"+e.cfg.ID))
					e.leading.Store(true)
					if e.onStart != nil {
						e.onStart()
					}
				},
				OnStoppedLeading: func() {
					e.leading.Store(false)
					e.log.Info("not leading any more")
				},
				OnNewLeader: func(id string) {
					if id != e.cfg.Identity {
						e.log.Info("another replica leads", zap.String("leader", id))
					}
				},
			},
		})
		if err != nil {
			e.log.Error("leader election is misconfigured; Ingress status is not written", zap.Error(err))
			return
		}
		le.Run(ctx)
	}
}
