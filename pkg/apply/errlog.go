package apply

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errorLog passes nginx's error log on to its destination and remembers
// the master's [emerg] lines: a reload whose config nginx refuses leaves
// the old workers running and says why only there. Reading it lets a
// reload go without a separate nginx -t, which parses the whole config a
// second time (seconds with thousands of hosts).
type errorLog struct {
	mu     sync.Mutex
	seq    int           // [emerg] lines seen so far
	recent []string      // the last few of them
	done   chan struct{} // closed when the last pipe's writers all closed
}

// pipe returns the write end to give nginx as stderr; lines read from it
// go to dst (nil: dropped). The reader ends when every writer has closed.
func (l *errorLog) pipe(dst io.Writer) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	l.mu.Lock()
	l.done = done
	l.mu.Unlock()
	go func() {
		defer close(done)
		defer r.Close()
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		for s.Scan() {
			line := s.Text()
			if dst != nil {
				_, _ = io.WriteString(dst, line+"\n")
			}
			if strings.Contains(line, "[emerg] ") {
				l.mu.Lock()
				l.seq++
				l.recent = append(l.recent, line)
				if len(l.recent) > 8 {
					l.recent = l.recent[1:]
				}
				l.mu.Unlock()
			}
		}
	}()
	return w, nil
}

// mark is a position in the log.
func (l *errorLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// emergSince returns the [emerg] lines that process pid (0: any) logged
// after mark, as far as they are remembered.
func (l *errorLog) emergSince(mark, pid int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := min(l.seq-mark, len(l.recent))
	tag := "[emerg] " + strconv.Itoa(pid) + "#"
	var out []string
	for _, line := range l.recent[len(l.recent)-n:] {
		if pid == 0 || strings.Contains(line, tag) {
			out = append(out, line)
		}
	}
	return out
}

// drained waits up to limit until every line of the last pipe was read:
// after nginx exits, its last words may still be in the pipe.
func (l *errorLog) drained(limit time.Duration) {
	l.mu.Lock()
	done := l.done
	l.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(limit):
	}
}

// children lists every child process of master, whatever its title: a
// worker forked just now still carries the master's title for a moment.
func children(master int) map[int]bool {
	out := map[int]bool{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	want := strconv.Itoa(master)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the parenthesised command are: state, ppid, ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(string(stat[i+1:])); len(f) >= 2 && f[1] == want {
			out[pid] = true
		}
	}
	return out
}
