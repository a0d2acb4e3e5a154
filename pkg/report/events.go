package report

import (
	"hash/fnv"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// Finding is one thing to report about an object.
type Finding struct {
	Warning bool
	Reason  string
	Message string
}

// Events reports findings as Kubernetes Events, once per change.
type Events struct {
	Recorder record.EventRecorder

	mu   sync.Mutex
	seen map[string]uint64 // object key → hash of its last findings
}

// Report emits findings for obj unless they are the ones last reported for
// it, and says whether it did. accepted adds a Normal event when the object
// is served.
func (e *Events) Report(key string, obj runtime.Object, findings []Finding, accepted string) bool {
	h := hash(findings, accepted)
	e.mu.Lock()
	if e.seen == nil {
		e.seen = map[string]uint64{}
	}
	if prev, ok := e.seen[key]; ok && prev == h {
		e.mu.Unlock()
		return false
	}
	e.seen[key] = h
	e.mu.Unlock()
	for _, f := range findings {
		typ := corev1.EventTypeNormal
		if f.Warning {
			typ = corev1.EventTypeWarning
		}
		e.Recorder.Event(obj, typ, f.Reason, f.Message)
	}
	if accepted != "" {
		e.Recorder.Event(obj, corev1.EventTypeNormal, "Sync", accepted)
	}
	return true
}

// Forget drops what was reported for objects not in keep, so a deleted and
// recreated object is reported afresh.
func (e *Events) Forget(keep map[string]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.seen {
		if !keep[k] {
			delete(e.seen, k)
		}
	}
}

func hash(fs []Finding, accepted string) uint64 {
	parts := make([]string, 0, len(fs)+1)
	for _, f := range fs {
		w := "N"
		if f.Warning {
			w = "W"
		}
		parts = append(parts, w+"\x00"+f.Reason+"\x00"+f.Message)
	}
	sort.Strings(parts)
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{1})
	}
	h.Write([]byte(accepted))
	return h.Sum64()
}
