package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// Applier puts rendered configs and backends into one nginx.
type Applier struct {
	Nginx  *Nginx
	Status *statusport.Client
	Log    *zap.Logger
	// LoadTimeout bounds how long a start or reload may take to show the
	// new checksum on the status port.
	LoadTimeout time.Duration
	// AuthFiles, when set, receives Dynamic.AuthFiles; PeerFiles
	// Dynamic.PeerFiles.
	AuthFiles, PeerFiles *AuthFiles
	// Owned, when set, records each nginx.conf written, so that a change
	// Portico did not make is undone before nginx loads it.
	Owned *OwnedFiles
	// PushWait bounds how long Apply waits for the Lua endpoints to take
	// a push; what is not taken by then PushLoop keeps pushing, so a slow
	// or unreachable endpoint never stalls the sync loop. Zero means 2 s.
	PushWait time.Duration
	// RoutedHosts, when set, is the path of the routed-hosts file, which
	// receives Dynamic.RoutedHosts (writeRoutedHosts).
	RoutedHosts string
	// OnRefused, when set, is called (a.mu held: it must not call back)
	// when the items the Lua endpoints refused change (Refused).
	OnRefused func()

	mu       sync.Mutex
	conf     []byte            // last config nginx loaded
	checksum string            // its checksum
	pushed   map[string][]byte // per Lua endpoint, the last body nginx took
	desired  *plan.Documents   // the last documents asked for
	// Per endpoint that takes patches (backends, routes): each item's JSON
	// by name of pushed (nil when nginx holds a body not made of desired
	// items, such as a union), and the generation nginx answered for
	// pushed: the base of the next patch.
	pushedItems map[string]map[string]json.RawMessage
	gens        map[string]string
	// refused are, per Lua endpoint, the items of the desired ones it
	// refused, by name, with their reasons; nginx keeps the version it
	// held of each, if any.
	refused map[string]map[string]string
	stats   Stats
	kick    chan struct{} // wakes PushLoop; made on first use
	// routedWant is the routed-hosts file asked for, routedWritten the
	// one written.
	routedWant, routedWritten []byte
}

// Dynamic is what nginx takes without a reload.
type Dynamic struct {
	// Documents are pushed to the Lua configuration endpoints.
	Documents *plan.Documents
	// AuthFiles are htpasswd files by name, read by nginx per request.
	AuthFiles map[string][]byte
	// RoutedHosts is the routed-hosts file: the hosts the Lua router
	// serves as the server blocks they stand for, for people (nginx does
	// not read it); nil keeps the last one.
	RoutedHosts []byte
	// PeerFiles are the stream context's endpoints by name, read by its
	// njs script per session.
	PeerFiles map[string][]byte
}

// Stats counts what the Applier did.
type Stats struct {
	Reloads        int `json:"reloads"`
	ReloadFailures int `json:"reloadFailures"`
	Restarts       int `json:"restarts"`
	Pushes         int `json:"pushes"`
	// Patches counts the pushes of backends or routes that carried only
	// what changed.
	Patches    int       `json:"patches"`
	LastReason string    `json:"lastReloadReason,omitempty"`
	LastError  string    `json:"lastReloadError,omitempty"`
	LastReload time.Time `json:"lastReload,omitzero"`
	Checksum   string    `json:"checksum,omitempty"`
}

// Result says what one Apply did.
type Result struct {
	Reloaded bool
	Pushed   bool
}

// Stats returns a copy of the counters.
func (a *Applier) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// Loaded reports whether nginx runs a config and holds the last backends.
func (a *Applier) Loaded() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.checksum == "" || !a.Nginx.Running() || a.desired == nil {
		return false
	}
	for _, d := range a.desired.InOrder() {
		if string(a.pushed[d.Path]) != string(d.Body) {
			return false
		}
	}
	return true
}

// Apply makes nginx run conf (identified by checksum) with dyn; a nil conf
// keeps the config nginx runs, the last one Apply loaded, and changes only
// what Lua holds. reason says what changed, for logs and stats.
func (a *Applier) Apply(ctx context.Context, conf []byte, checksum string, dyn Dynamic, reason string) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if conf == nil {
		if a.conf == nil {
			return Result{}, errors.New("no config loaded yet")
		}
		conf, checksum = a.conf, a.checksum
	}
	a.desired = dyn.Documents
	var res Result
	for _, fs := range []struct {
		to    *AuthFiles
		files map[string][]byte
		what  string
	}{{a.AuthFiles, dyn.AuthFiles, "auth files"}, {a.PeerFiles, dyn.PeerFiles, "peer files"}} {
		if fs.to == nil {
			continue
		}
		// New files first: the config about to load may name them.
		if err := fs.to.Write(fs.files); err != nil {
			return res, fmt.Errorf("%s: %w", fs.what, err)
		}
		defer func() {
			if a.checksum != checksum {
				return // nginx still runs a config that may name old files
			}
			if err := fs.to.Prune(fs.files); err != nil {
				a.Log.Warn("remove unused "+fs.what, zap.Error(err))
			}
		}()
	}
	if checksum != a.checksum || !a.Nginx.Running() {
		if err := a.load(ctx, conf, checksum, reason); err != nil {
			a.stats.ReloadFailures++
			a.stats.LastError = err.Error()
			return res, err
		}
		res.Reloaded = true
	}
	pctx, cancel := context.WithTimeout(ctx, a.pushWait())
	defer cancel()
	pushed, err := a.pushChanged(pctx)
	if dyn.RoutedHosts != nil {
		a.routedWant = dyn.RoutedHosts
	}
	a.writeRoutedHosts()
	res.Pushed = pushed
	if err != nil {
		// nginx keeps its last backends meanwhile.
		a.Log.Warn("nginx has not taken the new backends yet; pushing on in the background", zap.Error(err))
		a.wake()
	}
	return res, nil
}
