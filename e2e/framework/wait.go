package framework

import (
	"testing"
	"time"
)

// Poll calls check every interval until it returns nil; once limit has
// passed it fails t with what and check's last error.
func Poll(t testing.TB, limit, interval time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, limit, err)
		}
		time.Sleep(interval)
	}
}

// WaitFor is Poll every 200 ms, for waits of seconds to minutes.
func WaitFor(t testing.TB, limit time.Duration, what string, check func() error) {
	t.Helper()
	Poll(t, limit, 200*time.Millisecond, what, check)
}
