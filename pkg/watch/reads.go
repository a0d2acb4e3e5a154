package watch

import (
	"errors"
	"math"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// readRetry spaces the tries of a read that cannot reach the API server:
// 250 ms doubling to 2 s, ±50 %.
var readRetry = wait.Backoff{Duration: 250 * time.Millisecond, Factor: 2, Jitter: 0.5, Cap: 2 * time.Second, Steps: math.MaxInt32}

// WaitingReads returns a wrapper for the API client's transport
// (rest.Config.Wrap) under which a read (GET) that cannot connect to the
// API server tries again, 250 ms to 2 s apart, until it connects or its
// context ends, instead of failing.
//
// Informers list and watch with GETs. When one fails, client-go's
// reflector waits before the next try, doubling up to 30 s plus up to
// 100 % jitter, so after an outage informers came back up to a minute
// after the API server did; with this they come back within ~2 s of it.
// Only failures to connect are retried (the request never reached the
// server); writes fail at once as before, and the controller retries them.
//
// report is called when a read first finds the API server unreachable
// (down, with the error) and when a read gets through again (up, with how
// long it was unreachable); it may be nil.
func WaitingReads(report func(down bool, err error, after time.Duration)) func(http.RoundTripper) http.RoundTripper {
	s := &apiState{report: report}
	return func(rt http.RoundTripper) http.RoundTripper {
		return &waitingReads{next: rt, state: s}
	}
}

type waitingReads struct {
	next  http.RoundTripper
	state *apiState
}

func (w *waitingReads) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return w.next.RoundTrip(req)
	}
	backoff := readRetry
	for {
		resp, err := w.next.RoundTrip(req)
		if err == nil {
			w.state.up()
			return resp, nil
		}
		if !cannotConnect(err) {
			return nil, err
		}
		w.state.down(err)
		t := time.NewTimer(backoff.Step())
		select {
		case <-req.Context().Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// WrappedRoundTripper lets client-go see through the wrapper.
func (w *waitingReads) WrappedRoundTripper() http.RoundTripper { return w.next }

// cannotConnect reports an error from before the request reached the
// server: the connection was refused, or dialling failed or timed out.
func cannotConnect(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial"
}

// apiState is whether the API server was last found unreachable, shared
// by every read of one client so that an outage is reported once.
type apiState struct {
	report func(down bool, err error, after time.Duration)

	mu    sync.Mutex
	since time.Time // zero while reachable
}

func (s *apiState) down(err error) {
	s.mu.Lock()
	first := s.since.IsZero()
	if first {
		s.since = time.Now()
	}
	s.mu.Unlock()
	if first && s.report != nil {
		s.report(true, err, 0)
	}
}

func (s *apiState) up() {
	s.mu.Lock()
	since := s.since
	s.since = time.Time{}
	s.mu.Unlock()
	if !since.IsZero() && s.report != nil {
		s.report(false, nil, time.Since(since))
	}
}
