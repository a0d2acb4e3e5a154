package report

import (
	"hash/fnv"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// The Warning Events of one namespace's objects: EventBurst at once, then
// EventRate a second. The recorder drops what its queue (1,000) cannot
// hold, and every Event takes a turn of the API client's rate, which all
// namespaces share: one namespace's flood of bad objects must not delay or
// drop another's Events. What is over budget is reported at a later
// Report. Normal Events (an Ingress served) are not counted: a thousand
// good Ingresses applied at once are reported at once, as before.
const (
	EventBurst = 50
	EventRate  = 5
)

// Finding is one thing to report about an object.
type Finding struct {
	Warning bool
	Reason  string
	Message string
}

// Events reports findings as Kubernetes Events, once per change, within
// each namespace's budget (EventBurst, EventRate).
type Events struct {
	Recorder record.EventRecorder

	mu       sync.Mutex
	seen     map[string]uint64 // object key → hash of its last findings
	budgets  map[string]*rate.Limiter
	deferred bool // a Report was over its namespace's budget
}

// Report emits findings for obj unless they are the ones last reported for
// it, or its namespace is over budget (Deferred), and says whether it did.
// accepted adds a Normal event when the object is served.
func (e *Events) Report(key string, obj runtime.Object, findings []Finding, accepted string) bool {
	h := hash(findings, accepted)
	n := 0
	for _, f := range findings {
		if f.Warning {
			n++
		}
	}
	ns := ""
	if m, err := meta.Accessor(obj); err == nil {
		ns = m.GetNamespace()
	}
	e.mu.Lock()
	if e.seen == nil {
		e.seen, e.budgets = map[string]uint64{}, map[string]*rate.Limiter{}
	}
	if prev, ok := e.seen[key]; ok && prev == h {
		e.mu.Unlock()
		return false
	}
	b := e.budgets[ns]
	if b == nil {
		b = rate.NewLimiter(EventRate, EventBurst)
		e.budgets[ns] = b
	}
	if n > 0 && !b.AllowN(time.Now(), n) {
		e.deferred = true
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

// Deferred reports whether a Report was over its namespace's budget since
// the last call: the caller reports again later.
func (e *Events) Deferred() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.deferred
	e.deferred = false
	return d
}

// Forget drops what was reported for objects not in keep, so a deleted and
// recreated object is reported afresh, and the budgets left full.
func (e *Events) Forget(keep map[string]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.seen {
		if !keep[k] {
			delete(e.seen, k)
		}
	}
	now := time.Now()
	for ns, b := range e.budgets {
		if b.TokensAt(now) >= EventBurst {
			delete(e.budgets, ns)
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
