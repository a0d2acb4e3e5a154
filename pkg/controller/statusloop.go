package controller

import (
	"context"
	"time"

	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"
)

// statusWork is one set of Ingress statuses to write.
type statusWork struct {
	addresses []string
	ingresses []*networkingv1.Ingress
}

// statusLoop writes Ingress status off the sync path: with thousands of
// Ingresses the first writes take minutes at the client's rate limit, and
// routing changes must not wait behind them. Only the latest set waits;
// after a failure a new sync offers a fresh one.
type statusLoop struct {
	next chan statusWork // capacity 1: the latest set
}

func newStatusLoop() *statusLoop { return &statusLoop{next: make(chan statusWork, 1)} }

// offer replaces the waiting set with w.
func (l *statusLoop) offer(w statusWork) {
	for {
		select {
		case l.next <- w:
			return
		default:
		}
		select {
		case <-l.next:
		default:
		}
	}
}

// runStatus writes each offered set until ctx ends; it alone uses c.status.
func (c *Controller) runStatus(ctx context.Context) {
	for {
		var w statusWork
		select {
		case <-ctx.Done():
			return
		case w = <-c.statusQ.next:
		}
		c.status.Addresses = w.addresses
		if err := c.status.Update(ctx, w.ingresses); err != nil && ctx.Err() == nil {
			c.log.Warn("Ingress status update failed; will retry", zap.Error(err))
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			// The set may hold stale objects (a conflict): a sync offers
			// fresh ones from the cache.
			c.watcher.Trigger("Ingress status retry")
		}
	}
}
