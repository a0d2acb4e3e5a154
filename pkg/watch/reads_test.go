package watch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"
)

// closedAddr is a loopback address nothing listens on (yet).
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

type reports struct {
	mu    sync.Mutex
	downs []error
	ups   []time.Duration
}

func (r *reports) report(down bool, err error, after time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if down {
		r.downs = append(r.downs, err)
	} else {
		r.ups = append(r.ups, after)
	}
}

func waitingClient(r *reports) *http.Client {
	return &http.Client{Transport: WaitingReads(r.report)(&http.Transport{})}
}

func TestWaitingReadsWaitForTheServer(t *testing.T) {
	addr := closedAddr(t)
	var r reports
	c := waitingClient(&r)
	// The server comes up while two reads wait for it.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("listed"))
	}))
	go func() {
		time.Sleep(600 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		srv.Listener = l
		srv.Start()
	}()
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/services", nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Errorf("GET while the server was down: %v, want it to wait and succeed", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET: %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if len(r.downs) != 1 || !errors.Is(r.downs[0], syscall.ECONNREFUSED) {
		t.Errorf("down reports %v, want one connection refused for the outage", r.downs)
	}
	if len(r.ups) != 1 || r.ups[0] < 500*time.Millisecond {
		t.Errorf("up reports %v, want one, after the ~600 ms outage", r.ups)
	}
}

func TestWaitingReadsWritesFailAtOnce(t *testing.T) {
	addr := closedAddr(t)
	var r reports
	c := waitingClient(&r)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+addr+"/api/v1/services/x", nil)
	_, err := c.Do(req)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("PUT to a closed port: %v, want connection refused at once", err)
	}
	if len(r.downs) != 0 {
		t.Errorf("a write reported the server down: %v", r.downs)
	}
}

func TestWaitingReadsEndWithTheirContext(t *testing.T) {
	addr := closedAddr(t)
	var r reports
	c := waitingClient(&r)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/services", nil)
	_, err := c.Do(req)
	if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GET whose context ends while the server is down: %v", err)
	}
	if ctx.Err() == nil {
		t.Error("GET returned before its context ended, with the server still down")
	}
	if len(r.downs) != 1 || len(r.ups) != 0 {
		t.Errorf("reports: down %v, up %v; want one down", r.downs, r.ups)
	}
}

// A read the server answers, even with an error status, is not retried.
func TestWaitingReadsPassAnswers(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var r reports
	resp, err := waitingClient(&r).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || calls != 1 {
		t.Errorf("got %d after %d calls, want the server's 503 after 1", resp.StatusCode, calls)
	}
	if len(r.downs)+len(r.ups) != 0 {
		t.Errorf("reports %v %v for a server that answered", r.downs, r.ups)
	}
}
