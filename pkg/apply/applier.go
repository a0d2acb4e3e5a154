package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Applier puts rendered configs and backends into one nginx.
type Applier struct {
	Nginx  *Nginx
	Status *Status
	Log    *zap.Logger
	// LoadTimeout bounds how long a start or reload may take to show the
	// new checksum on the status port.
	LoadTimeout time.Duration
	// AuthFiles, when set, receives Dynamic.AuthFiles (HTTP annotations).
	AuthFiles *AuthFiles
	// Owned, when set, records each nginx.conf written, so that a change
	// Portico did not make is undone before nginx loads it.
	Owned *OwnedFiles
	// PushWait bounds how long Apply waits for the Lua endpoints to take
	// a push; what is not taken by then PushLoop keeps pushing, so a slow
	// or unreachable endpoint never stalls the sync loop. Zero means 2 s.
	PushWait time.Duration
	// OnRefused, when set, is called (a.mu held: it must not call back)
	// when the items the Lua endpoints refused change (Refused).
	OnRefused func()

	mu       sync.Mutex
	conf     []byte            // last config nginx loaded
	checksum string            // its checksum
	pushed   map[string][]byte // per Lua endpoint, the last body nginx took
	desired  map[string][]byte // per Lua endpoint, the last body asked for
	// Per endpoint that takes patches (backends, routes): each item's JSON
	// by name, of desired and of pushed (nil when nginx holds a body not
	// made of desired items, such as a union), and the generation nginx
	// answered for pushed: the base of the next patch.
	desiredItems, pushedItems map[string]map[string]json.RawMessage
	gens                      map[string]string
	// refused are, per Lua endpoint, the items of the desired ones it
	// refused, by name, with their reasons; nginx keeps the version it
	// held of each, if any.
	refused map[string]map[string]string
	hsts    string // desired routes' HSTS, for patches
	stats   Stats
	kick    chan struct{} // wakes PushLoop; made on first use
}

// Dynamic is what nginx takes without a reload.
type Dynamic struct {
	Backends     []Backend
	Certificates Certificates
	// Routes are the Lua router's hosts.
	Routes Routes
	// AuthFiles are htpasswd files by name, read by nginx per request.
	AuthFiles map[string][]byte
}

// pushOrder is the order of pushes: certificates, then the backends that
// new routes name, then the routes.
var pushOrder = []string{certificatesPath, backendsPath, routesPath}

// encode encodes d per Lua endpoint: the bodies of full pushes and, for
// the endpoints that take patches (backends, routes), each item's JSON by
// name. An item is a slice of its body, not a copy: at 10,000 hosts the
// JSON is the controller's largest allocation after the model. hint
// presizes each body (the last one's length).
func (d Dynamic) encode(hint map[string]int) (bodies map[string][]byte, items map[string]map[string]json.RawMessage, err error) {
	backends := nonNil(d.Backends)
	bw := newBody(backendsPath, "", hint[backendsPath], len(backends))
	for i := range backends {
		if err := bw.item(backends[i].Name, &backends[i]); err != nil {
			return nil, nil, err
		}
	}
	rw := newBody(routesPath, d.Routes.HSTS, hint[routesPath], len(d.Routes.Hosts))
	hosts := make([]string, 0, len(d.Routes.Hosts))
	for h := range d.Routes.Hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts) // as encoding/json orders a map
	for _, h := range hosts {
		r := d.Routes.Hosts[h]
		if err := rw.item(h, &r); err != nil {
			return nil, nil, err
		}
	}
	certs := d.Certificates
	if certs.Servers == nil {
		certs.Servers = map[string]string{}
	}
	if certs.Certificates == nil {
		certs.Certificates = []Certificate{}
	}
	c, err := json.Marshal(certs)
	if err != nil {
		return nil, nil, err
	}
	b, bi := bw.finish()
	r, ri := rw.finish()
	return map[string][]byte{backendsPath: b, certificatesPath: c, routesPath: r},
		map[string]map[string]json.RawMessage{backendsPath: bi, routesPath: ri}, nil
}

// document writes the body of a full push to backends or routes: its
// head, the items separated by commas (backends as values, hosts as
// "name":value members), its tail. The items are kept as spans of it.
type document struct {
	buf   bytes.Buffer
	enc   *json.Encoder
	spans []span
	key   bool   // items are members
	tail  string // closes the document
}

type span struct {
	name       string
	start, end int
}

// newBody starts the body at path (backendsPath or routesPath, whose
// document carries hsts) for n items, presized for hint bytes; it writes
// what Backends and Routes encode to.
func newBody(path, hsts string, hint, n int) *document {
	w := &document{spans: make([]span, 0, n), tail: "]}"}
	w.buf.Grow(hint + hint/8)
	w.enc = json.NewEncoder(&w.buf) // escapes as json.Marshal does
	if path == routesPath {
		w.key, w.tail = true, "}}"
		w.buf.WriteString(`{"hsts":`)
		_ = w.enc.Encode(hsts) // a string always encodes
		w.buf.Truncate(w.buf.Len() - 1)
		w.buf.WriteString(`,"hosts":{`)
	} else {
		w.buf.WriteString(`{"backends":[`)
	}
	return w
}

// item appends v, named name.
func (w *document) item(name string, v any) error {
	if err := w.member(name); err != nil {
		return err
	}
	start := w.buf.Len()
	if err := w.enc.Encode(v); err != nil {
		return err
	}
	w.buf.Truncate(w.buf.Len() - 1) // Encode's newline
	w.spans = append(w.spans, span{name, start, w.buf.Len()})
	return nil
}

// raw appends j, JSON already encoded, as item does v.
func (w *document) raw(name string, j json.RawMessage) error {
	if err := w.member(name); err != nil {
		return err
	}
	start := w.buf.Len()
	w.buf.Write(j)
	w.spans = append(w.spans, span{name, start, w.buf.Len()})
	return nil
}

// member starts an item: the comma, and for a member its quoted name.
func (w *document) member(name string) error {
	if len(w.spans) > 0 {
		w.buf.WriteByte(',')
	}
	if w.key {
		if err := w.enc.Encode(name); err != nil {
			return err
		}
		w.buf.Truncate(w.buf.Len() - 1)
		w.buf.WriteByte(':')
	}
	return nil
}

// finish closes the document and returns it and its items by name.
func (w *document) finish() ([]byte, map[string]json.RawMessage) {
	w.buf.WriteString(w.tail)
	doc := w.buf.Bytes()
	if cap(doc) > len(doc)+len(doc)/4 {
		doc = bytes.Clone(doc) // do not keep a mostly empty buffer
	}
	items := make(map[string]json.RawMessage, len(w.spans))
	for _, s := range w.spans {
		items[s.name] = doc[s.start:s.end:s.end]
	}
	return doc, items
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
	for path, body := range a.desired {
		if string(a.pushed[path]) != string(body) {
			return false
		}
	}
	return true
}

// Apply makes nginx run conf (identified by checksum) with dyn. reason
// says what changed, for logs and stats.
func (a *Applier) Apply(ctx context.Context, conf []byte, checksum string, dyn Dynamic, reason string) (Result, error) {
	a.mu.Lock()
	hint := map[string]int{backendsPath: len(a.desired[backendsPath]), routesPath: len(a.desired[routesPath])}
	a.mu.Unlock()
	bodies, items, err := dyn.encode(hint)
	if err != nil {
		return Result{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.desired, a.desiredItems, a.hsts = bodies, items, dyn.Routes.HSTS
	var res Result
	if a.AuthFiles != nil {
		// New files first: the config about to load may name them.
		if err := a.AuthFiles.Write(dyn.AuthFiles); err != nil {
			return res, fmt.Errorf("auth files: %w", err)
		}
		defer func() {
			if a.checksum != checksum {
				return // nginx still runs a config that may name old files
			}
			if err := a.AuthFiles.Prune(dyn.AuthFiles); err != nil {
				a.Log.Warn("remove unused auth files", zap.Error(err))
			}
		}()
	}
	if checksum != a.checksum || !a.Nginx.Running() {
		if err := a.load(ctx, conf, checksum, dyn.Backends, reason); err != nil {
			a.stats.ReloadFailures++
			a.stats.LastError = err.Error()
			return res, err
		}
		res.Reloaded = true
	}
	pctx, cancel := context.WithTimeout(ctx, a.pushWait())
	defer cancel()
	pushed, err := a.pushChanged(pctx)
	res.Pushed = pushed
	if err != nil {
		// nginx keeps its last backends meanwhile.
		a.Log.Warn("nginx has not taken the new backends yet; pushing on in the background", zap.Error(err))
		a.wake()
	}
	return res, nil
}

func (a *Applier) pushWait() time.Duration {
	if a.PushWait > 0 {
		return a.PushWait
	}
	return 2 * time.Second
}

// wake asks PushLoop to push what nginx does not hold yet; a.mu is held.
func (a *Applier) wake() {
	if a.kick == nil {
		a.kick = make(chan struct{}, 1)
	}
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// PushLoop pushes, with backoff, whatever Apply left for it, until ctx
// ends.
func (a *Applier) PushLoop(ctx context.Context) {
	a.mu.Lock()
	a.wake() // makes the channel
	kick := a.kick
	a.mu.Unlock()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		for !a.pushPending(ctx) {
			a.Log.Warn("background push failed; retrying", zap.Duration("in", backoff))
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
		backoff = 100 * time.Millisecond
	}
}

// pushPending makes one attempt, of at most a second, at each body nginx
// does not hold, and reports whether nothing is left pending. It holds
// a.mu, so pushes reach nginx in the order they were asked for.
func (a *Applier) pushPending(ctx context.Context) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, path := range pushOrder {
		body := a.desired[path]
		if body == nil || string(body) == string(a.pushed[path]) {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		err := a.send(actx, path, body)
		cancel()
		if err != nil {
			return false
		}
		a.markPushed(path, body)
	}
	return true
}

// send gives nginx body at path; a.mu is held. Backends and routes go
// as a patch when nginx holds an earlier push of them: only what changed,
// so that no worker decodes everything again (tens of milliseconds each
// at 10,000 hosts); a refused patch (nginx restarted) sends it all. The
// items nginx refuses are noted (noteRefused); it takes the others.
func (a *Applier) send(ctx context.Context, path string, body []byte) error {
	if path == certificatesPath {
		p, err := a.Status.push(ctx, path, body, "")
		if err == nil {
			a.noteRefused(path, p.refused, nil)
		}
		return err
	}
	if a.gens == nil {
		a.gens = map[string]string{}
	}
	old, next := a.pushedItems[path], a.desiredItems[path]
	if base := a.gens[path]; base != "" && old != nil && next != nil && string(body) == string(a.desired[path]) {
		if patch, touched, err := a.patch(path, old, next); err == nil {
			p, err := a.Status.push(ctx, path, patch, base)
			if err == nil {
				a.gens[path] = p.generation
				a.stats.Patches++
				a.noteRefused(path, p.refused, touched)
				return nil
			}
			if !errors.Is(err, errStaleBase) {
				return err
			}
			a.Log.Info("nginx refused a patch; pushing everything", zap.String("path", path), zap.Error(err))
		}
	}
	p, err := a.Status.push(ctx, path, body, "")
	a.gens[path] = p.generation // "" on failure: the next push sends everything
	if err == nil {
		a.noteRefused(path, p.refused, nil)
	}
	return err
}

// noteRefused records what nginx refused of a push to path: of a full
// push (touched nil) all it refused, of a patch a change to the refusals
// of the items it touched. a.mu is held.
func (a *Applier) noteRefused(path string, refused map[string]string, touched []string) {
	if a.refused == nil {
		a.refused = map[string]map[string]string{}
	}
	was := a.refused[path]
	now := map[string]string{}
	if touched != nil {
		maps.Copy(now, was)
		for _, name := range touched {
			delete(now, name)
		}
	}
	maps.Copy(now, refused)
	for name, why := range refused {
		if was[name] != why { // a refused item goes again with each patch
			a.Log.Warn("nginx refused an item of a push and took the others", zap.String("kind", itemKinds[path]),
				zap.String("name", name), zap.String("reason", why))
		}
	}
	a.refused[path] = now
	if !maps.Equal(was, now) && a.OnRefused != nil {
		a.OnRefused()
	}
}

// refusedItem stands, among the items nginx holds, for one it refused: it
// equals no item, so the next patch carries the item again, or deletes it.
var refusedItem = json.RawMessage("null")

// Refused returns the items the Lua endpoints refused of the last pushes
// they took, sorted by kind and name.
func (a *Applier) Refused() []Refusal {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Refusal
	for path, names := range a.refused {
		for name, why := range names {
			out = append(out, Refusal{Kind: itemKinds[path], Name: name, Reason: why})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// patch is the patch at path that turns the items old into next: those
// that changed or came, and the names of those gone; touched names both.
func (a *Applier) patch(path string, old, next map[string]json.RawMessage) ([]byte, []string, error) {
	changed, deleted := map[string]json.RawMessage{}, []string{}
	for name, j := range next {
		if string(old[name]) != string(j) {
			changed[name] = j
		}
	}
	for name := range old {
		if _, ok := next[name]; !ok {
			deleted = append(deleted, name)
		}
	}
	sort.Strings(deleted)
	touched := slices.Concat(slices.Collect(maps.Keys(changed)), deleted)
	var body []byte
	var err error
	if path == routesPath {
		body, err = json.Marshal(RoutesPatch{HSTS: a.hsts, Hosts: changed, Deleted: deleted})
		return body, touched, err
	}
	names := make([]string, 0, len(changed))
	for name := range changed {
		names = append(names, name)
	}
	sort.Strings(names)
	list := make([]json.RawMessage, 0, len(names))
	for _, name := range names {
		list = append(list, changed[name])
	}
	body, err = json.Marshal(BackendsPatch{Backends: list, Deleted: deleted})
	return body, touched, err
}

// markPushed records that nginx holds body at path; a.mu is held.
func (a *Applier) markPushed(path string, body []byte) {
	if a.pushed == nil {
		a.pushed = map[string][]byte{}
	}
	if a.pushedItems == nil {
		a.pushedItems = map[string]map[string]json.RawMessage{}
	}
	a.pushed[path] = body
	a.pushedItems[path] = nil // a body of other items (a union) cannot be patched
	if string(body) == string(a.desired[path]) {
		items := a.desiredItems[path]
		if len(a.refused[path]) > 0 && items != nil {
			items = maps.Clone(items)
			for name := range a.refused[path] {
				if _, ok := items[name]; ok {
					items[name] = refusedItem
				}
			}
		}
		a.pushedItems[path] = items
	}
	a.stats.Pushes++
}

// pushChanged pushes every desired body nginx does not hold yet.
func (a *Applier) pushChanged(ctx context.Context) (bool, error) {
	did := false
	for _, path := range pushOrder {
		body := a.desired[path]
		if body == nil || string(body) == string(a.pushed[path]) {
			continue
		}
		if err := a.push(ctx, path, body); err != nil {
			return did, err
		}
		did = true
	}
	return did, nil
}

// load swaps conf in and starts or reloads nginx, which checks it: nginx
// parses it once, not twice as nginx -t before a reload would. On failure
// nginx keeps running the previous config, and so does the file on disk.
func (a *Applier) load(ctx context.Context, conf []byte, checksum string, backends []Backend, reason string) error {
	candidate := a.Nginx.Conf + ".candidate"
	if err := writeFileSync(candidate, conf); err != nil {
		return fmt.Errorf("write candidate config: %w", err)
	}
	defer os.Remove(candidate)
	// A refused config never reaches nginx.conf: nginx -t checks the
	// candidate first (a refused reload is also caught below, from the
	// master's [emerg] lines, should the two ever disagree).
	if err := a.Nginx.Test(candidate); err != nil {
		return &RejectedError{Err: err}
	}
	running := a.Nginx.Running()
	if running && a.pushed[backendsPath] != nil {
		// Until the old workers are gone, both configs serve: give nginx the
		// new certificates and the union of old and new backends, so
		// neither config answers "not configured".
		pctx, cancel := context.WithTimeout(ctx, a.pushWait())
		if body := a.desired[certificatesPath]; body != nil {
			_ = a.push(pctx, certificatesPath, body)
		}
		if body, err := a.union(backendsPath, backends); err == nil {
			_ = a.push(pctx, backendsPath, body)
		}
		// Hosts move between server blocks and the router: both configs
		// must find theirs.
		if body, err := a.union(routesPath, backends); err == nil {
			_ = a.push(pctx, routesPath, body)
		}
		cancel()
	}
	if err := a.Owned.write(a.Nginx.Conf, conf, func() error { return renameSync(candidate, a.Nginx.Conf) }); err != nil {
		return fmt.Errorf("install config: %w", err)
	}
	start := time.Now()
	kind := "reload"
	var old []int
	mark := a.Nginx.ReloadMark()
	if running {
		master := a.Nginx.PID()
		old = workers(master)
		before := children(master)
		err := a.Nginx.Reload()
		if err != nil {
			return a.restore(fmt.Errorf("reload nginx: %w", err))
		}
		if err := a.waitNewWorkers(ctx, master, before, mark); err != nil {
			return a.restore(err)
		}
	} else {
		kind = "start"
		if err := a.Nginx.Start(); err != nil {
			return a.restore(err)
		}
	}
	if err := a.waitChecksum(ctx, checksum); err != nil {
		if !running {
			a.Nginx.log.drained(time.Second)
		}
		if lines := a.Nginx.Refused(mark, 0); !running && len(lines) > 0 {
			err = fmt.Errorf("%w: %s", err, strings.Join(lines, "; "))
		}
		return a.restore(fmt.Errorf("nginx %s: %w", kind, err))
	}
	// Until the old workers have taken their shutdown signal they still
	// accept connections and answer with the old config.
	if err := a.waitOldWorkers(ctx, old); err != nil {
		return a.restore(fmt.Errorf("nginx %s: %w", kind, err))
	}
	a.conf, a.checksum = conf, checksum
	a.pushed, a.pushedItems = nil, nil // push again: new workers must see the exact sets
	a.stats.Reloads++
	a.stats.LastReason, a.stats.LastError = reason, ""
	a.stats.LastReload = time.Now()
	a.stats.Checksum = checksum
	a.Log.Info("nginx config loaded", zap.String("action", kind), zap.String("reason", reason),
		zap.String("checksum", checksum[:12]), zap.Duration("took", time.Since(start)), zap.Int("reloads", a.stats.Reloads))
	return nil
}

// restore puts the last good config back on disk after a failed load.
func (a *Applier) restore(cause error) error {
	if a.conf != nil {
		if err := a.Owned.write(a.Nginx.Conf, a.conf, func() error { return writeAtomic(a.Nginx.Conf, a.conf, 0o644) }); err != nil {
			return errors.Join(cause, fmt.Errorf("restore last good config: %w", err))
		}
	}
	return cause
}

// waitChecksum waits until nginx's workers serve the config with checksum.
func (a *Applier) waitChecksum(ctx context.Context, checksum string) error {
	ctx, cancel := context.WithTimeout(ctx, a.LoadTimeout)
	defer cancel()
	exited := a.Nginx.Exited()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		got, err := a.Status.Checksum(ctx)
		if err == nil && got == checksum {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("workers still run checksum %.12s", got)
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("nginx exited: %v", a.Nginx.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("config not live after %s: %w", a.LoadTimeout, last)
		case <-tick.C:
		}
	}
}

// waitNewWorkers waits until the master, after a reload, has started
// workers that were not its children before (it took the config) or
// logged why it refused it. Only ctx bounds it: parsing a config of 10,000
// hosts takes nginx tens of seconds on a small machine.
func (a *Applier) waitNewWorkers(ctx context.Context, master int, was map[int]bool, mark int) error {
	exited := a.Nginx.Exited()
	for {
		for _, p := range workers(master) {
			if !was[p] {
				return nil
			}
		}
		if lines := a.Nginx.Refused(mark, master); len(lines) > 0 {
			return &RejectedError{Err: errors.New(strings.Join(lines, "; "))}
		}
		select {
		case <-exited:
			return fmt.Errorf("nginx exited: %v", a.Nginx.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("no new workers after the reload: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitOldWorkers waits until none of the workers in old accepts
// connections any more.
func (a *Applier) waitOldWorkers(ctx context.Context, old []int) error {
	ctx, cancel := context.WithTimeout(ctx, a.LoadTimeout)
	defer cancel()
	for {
		left := accepting(a.Nginx.PID(), old)
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("old workers %v still accept after %s", left, a.LoadTimeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// push sends body to the Lua endpoint at path, retrying with backoff until
// nginx takes it or ctx ends.
func (a *Applier) push(ctx context.Context, path string, body []byte) error {
	backoff := 10 * time.Millisecond
	for {
		err := a.send(ctx, path, body)
		if err == nil {
			a.markPushed(path, body)
			return nil
		}
		a.Log.Warn("push failed; retrying", zap.String("path", path), zap.Error(err), zap.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// Restart starts nginx again with the last good config after it died, and
// pushes the last backends into it.
func (a *Applier) Restart(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Nginx.Running() || a.conf == nil {
		return nil
	}
	a.Owned.Check(a.Nginx.Conf) // a hand edit is never what nginx starts with
	if err := a.Nginx.Start(); err != nil {
		return err
	}
	if err := a.waitChecksum(ctx, a.checksum); err != nil {
		return fmt.Errorf("restart nginx: %w", err)
	}
	a.stats.Restarts++
	a.pushed, a.pushedItems = nil, nil
	pctx, cancel := context.WithTimeout(ctx, a.pushWait())
	defer cancel()
	if _, err := a.pushChanged(pctx); err != nil {
		a.wake()
	}
	return nil
}

// Supervise restarts nginx whenever the master exits, until ctx ends.
func (a *Applier) Supervise(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		exited := a.Nginx.Exited()
		if exited == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		if ctx.Err() != nil {
			return
		}
		a.Log.Error("nginx master exited; restarting it with the last good config", zap.Error(a.Nginx.ExitErr()))
		if err := a.Restart(ctx); err != nil {
			a.Log.Error("nginx restart failed", zap.Error(err), zap.Duration("retry in", backoff))
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		a.Log.Info("nginx restarted", zap.Int("pid", a.Nginx.PID()))
	}
}

func nonNil(b []Backend) []Backend {
	if b == nil {
		return []Backend{}
	}
	for i := range b {
		if b[i].Endpoints == nil {
			b[i].Endpoints = []Endpoint{}
		}
	}
	return b
}

// union is the body at path (backends or routes) of the desired items and
// the pushed ones the desired lack; a.mu is held. Made from the items
// when nginx holds a body of known items, else by decoding the bodies
// (backends are next's then).
func (a *Applier) union(path string, next []Backend) ([]byte, error) {
	old, want := a.pushedItems[path], a.desiredItems[path]
	if old == nil || want == nil {
		if path == backendsPath {
			return unionBackends(a.pushed[path], next)
		}
		return unionRoutes(a.pushed[path], a.desired[path])
	}
	names := make([]string, 0, len(want)+len(old)/8)
	for name := range want {
		names = append(names, name)
	}
	for name := range old {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	w := newBody(path, a.hsts, len(a.desired[path]), len(names))
	for _, name := range names {
		j, ok := want[name]
		if !ok {
			j = old[name]
		}
		if string(j) == string(refusedItem) {
			continue // nginx holds what it held before, or nothing
		}
		if err := w.raw(name, j); err != nil {
			return nil, err
		}
	}
	body, _ := w.finish()
	return body, nil
}

// unionBackends merges the pushed body with next; next wins on names.
func unionBackends(pushed []byte, next []Backend) ([]byte, error) {
	var old Backends
	if err := json.Unmarshal(pushed, &old); err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(next))
	for _, b := range next {
		names[b.Name] = true
	}
	all := append([]Backend(nil), next...)
	for _, b := range old.Backends {
		if !names[b.Name] {
			all = append(all, b)
		}
	}
	return json.Marshal(Backends{Backends: all})
}

// unionRoutes merges two routes bodies; next wins on hosts. A nil pushed
// gives next.
func unionRoutes(pushed, next []byte) ([]byte, error) {
	var old, nr Routes
	if pushed == nil {
		return next, nil
	}
	if err := json.Unmarshal(pushed, &old); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(next, &nr); err != nil {
		return nil, err
	}
	for h, r := range old.Hosts {
		if _, ok := nr.Hosts[h]; !ok {
			nr.Hosts[h] = r
		}
	}
	return json.Marshal(nr)
}

// writeFileSync writes data to path and flushes it to disk.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// renameSync renames old to new and flushes the directory entry.
func renameSync(oldPath, newPath string) error {
	if err := os.Rename(oldPath, newPath); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(newPath))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RejectedError is a config nginx refused (nginx -t, or the master on
// reload); the running config keeps serving.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string {
	return "new config rejected, nginx keeps the running one: " + e.Err.Error()
}

func (e *RejectedError) Unwrap() error { return e.Err }
