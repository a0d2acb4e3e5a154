package echo

import (
	"encoding/json"
	"net/http"
	"sync"
)

// MaxSeen is how many of the last requests /__seen keeps.
const MaxSeen = 64

// seenLog is the last MaxSeen requests a pod echoed, oldest first: a
// mirror's copies, which no client reads the answers of.
type seenLog struct {
	mu   sync.Mutex
	last []Response
}

func (l *seenLog) add(r Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.last) == MaxSeen {
		l.last = append(l.last[:0], l.last[1:]...)
	}
	l.last = append(l.last, r)
}

// serve answers GET /__seen with the requests echoed so far, as a JSON
// array of Response; it reports whether it handled r.
func (l *seenLog) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != "/__seen" {
		return false
	}
	l.mu.Lock()
	body, err := json.Marshal(append([]Response{}, l.last...))
	l.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body) //nolint:errcheck // the client may be gone
	return true
}
