package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// The keys that changed since the last good values are those with
// another value, new ones and removed ones; holding them restores the
// last good values and leaves new ones out, in a copy.
func TestChangedAndHeldKeys(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{"same": "1", "changed": "2", "new": "3"}}
	lastGood := map[string]string{"same": "1", "changed": "1", "removed": "x"}
	keys := changedKeys(cm, lastGood)
	if diff := cmp.Diff([]string{"changed", "new", "removed"}, keys); diff != "" {
		t.Errorf("changed keys (-want +got):\n%s", diff)
	}
	held := holdKeys(cm, keys, lastGood)
	if diff := cmp.Diff(map[string]string{"same": "1", "changed": "1", "removed": "x"}, held.Data); diff != "" {
		t.Errorf("held (-want +got):\n%s", diff)
	}
	if cm.Data["changed"] != "2" || len(cm.Data) != 3 {
		t.Errorf("holdKeys changed its input: %v", cm.Data)
	}
}
