package controller

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/report"
	"github.com/portico-ingress/portico/pkg/watch"
)

// A served Ingress gets a Normal Sync Event, unless --disable-sync-events.
func TestSyncEvents(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		rec := record.NewFakeRecorder(10)
		c := &Controller{cfg: Config{DisableSyncEvents: disabled}, log: zap.NewNop(), events: &report.Events{Recorder: rec}, applier: &apply.Applier{}}
		c.metrics = newMetrics(prometheus.NewRegistry(), c)
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "web"}}
		c.reportDiagnostics(watch.Snapshot{Ingresses: []*networkingv1.Ingress{ing}},
			&model.Config{Ingresses: []model.IngressRef{{Namespace: "lab", Name: "web"}}})
		var got []string
		for len(rec.Events) > 0 {
			got = append(got, <-rec.Events)
		}
		switch {
		case disabled && len(got) != 0:
			t.Errorf("--disable-sync-events: events %q", got)
		case !disabled && (len(got) != 1 || got[0] != "Normal Sync Scheduled for sync: the Ingress is served"):
			t.Errorf("events %q, want one Normal Sync", got)
		}
	}
}
