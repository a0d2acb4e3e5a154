package apply

import "testing"

// A reload refused for a port in use is read once the master gave up
// binding it; other refusals at once.
func TestBindRetrying(t *testing.T) {
	bind := "2026/12/07 15:46:46 [emerg] 6706#6706: bind() to 127.0.0.1:39535 failed (98: Address already in use)"
	for _, c := range []struct {
		lines []string
		want  bool
	}{
		{[]string{bind}, true},
		{[]string{bind, bind}, true},
		{[]string{bind, bind, bind, bind, bind, "2026/12/07 15:46:48 [emerg] 6706#6706: still could not bind()"}, false},
		{[]string{"2026/12/07 15:46:46 [emerg] 6706#6706: bind() to 10.9.9.9:80 failed (99: Cannot assign requested address)"}, false},
		{[]string{`2026/12/07 15:46:46 [emerg] 6706#6706: unknown directive "no_such_directive"`}, false},
	} {
		if got := bindRetrying(c.lines); got != c.want {
			t.Errorf("%q: %t, want %t", c.lines, got, c.want)
		}
	}
}
