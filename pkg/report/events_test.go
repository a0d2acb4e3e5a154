package report

import (
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
)

// One namespace's flood of findings is cut at its budget; another
// namespace's findings are reported all the same, and what was cut is
// reported by a later Report.
func TestEventsBudgetPerNamespace(t *testing.T) {
	rec := record.NewFakeRecorder(10 * EventBurst)
	e := &Events{Recorder: rec}
	ing := func(ns, name string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	bad := []Finding{{Warning: true, Reason: "InvalidAnnotation", Message: "no"}}
	reported := 0
	for i := range 3 * EventBurst {
		if e.Report(fmt.Sprintf("hostile/%d", i), ing("hostile", fmt.Sprint(i)), bad, "") {
			reported++
		}
	}
	if reported > EventBurst+EventRate || !e.Deferred() {
		t.Fatalf("a flood of %d findings in one namespace: %d reported, want about %d and the rest deferred", 3*EventBurst, reported, EventBurst)
	}
	if e.Deferred() {
		t.Error("Deferred() stays set after it was read")
	}
	if !e.Report("tenant/a", ing("tenant", "a"), bad, "") || e.Deferred() {
		t.Error("another namespace's finding was not reported")
	}
	if e.Report("tenant/a", ing("tenant", "a"), bad, "") {
		t.Error("the same finding reported twice")
	}
	// Normal Events are not counted.
	if !e.Report("hostile/served", ing("hostile", "served"), nil, "Scheduled for sync") || e.Deferred() {
		t.Error("an Ingress served was not reported in a namespace over its budget")
	}
	if got := len(rec.Events); got != reported+2 {
		t.Errorf("%d Events recorded, want %d", got, reported+2)
	}
}
