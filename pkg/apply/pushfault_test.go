package apply_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// gate is a TCP proxy to nginx's status port that can stop answering:
// closed, it accepts connections and never forwards them (a hung endpoint).
type gate struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	closed bool
	conns  []net.Conn
}

func newGate(t *testing.T, target string) *gate {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{l: l, target: target}
	t.Cleanup(func() { l.Close(); g.set(false) })
	go g.serve()
	return g
}

func (g *gate) url() string { return "http://" + g.l.Addr().String() }

func (g *gate) serve() {
	for {
		c, err := g.l.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conns = append(g.conns, c)
		closed := g.closed
		g.mu.Unlock()
		if closed {
			continue // held open, never answered
		}
		go func() {
			up, err := net.Dial("tcp", g.target)
			if err != nil {
				c.Close()
				return
			}
			go func() { io.Copy(up, c); up.Close() }() //nolint:errcheck // a copy ends with its connection
			io.Copy(c, up)                             //nolint:errcheck
			c.Close()
		}()
	}
}

// set closes or opens the gate; either way it drops the connections it
// holds, so a kept-alive connection cannot slip past a closed gate.
func (g *gate) set(closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = closed
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

// A hung Lua endpoint does not stall Apply: it returns after PushWait,
// nginx keeps its last backends, and the background pusher delivers the
// new ones once the endpoint answers again.
func TestHungLuaEndpointNeverBlocksApply(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.applier.PushLoop(ctx)
	a, b := backendServer(t, "a"), backendServer(t, "b")
	conf, sum := f.config(map[string]string{"/x": "ns/x:80"})
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a}})

	g := newGate(t, fmt.Sprintf("127.0.0.1:%d", f.opts.StatusPort))
	f.applier.Status = statusport.New(g.url(), 5*time.Second)
	f.applier.PushWait = 300 * time.Millisecond
	g.set(true)
	start := time.Now()
	res := f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{b}})
	if took := time.Since(start); took > 2*time.Second || res.Pushed {
		t.Fatalf("Apply with a hung Lua endpoint: %+v after %s, want no push within about PushWait", res, took)
	}
	for range 5 {
		if code, body := f.get("/x"); code != 200 || body != "a" {
			t.Fatalf("while the endpoint hangs: GET /x = %d %q, want the last backends (a)", code, body)
		}
	}
	if f.applier.Loaded() {
		t.Error("Loaded() with a push pending")
	}

	g.set(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, body := f.get("/x"); body == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background push never delivered the new backends")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !f.applier.Loaded() {
		t.Error("not Loaded() after the background push")
	}
}
