package plan

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
)

// Lua is what nginx's Lua holds without a reload, in the wire format of
// its configuration endpoints.
type Lua struct {
	Backends     []Backend
	Certificates Certificates
	// Routes are the Lua router's hosts.
	Routes Routes
}

// Document is the body of a push to one Lua configuration endpoint. The
// documents of named items (backends by name, routes by host) keep each
// item's JSON, a slice of Body, so that a push may carry only the items
// that changed (Patch) and a reload may push the union of two documents
// (Union); a document without items (certificates) is pushed whole.
type Document struct {
	// Path is the endpoint: BackendsPath, CertificatesPath or RoutesPath;
	// Kind names its items: "backend", "certificate" or "host".
	Path, Kind string
	Body       []byte
	// Items are the named items by name; nil for a document pushed whole.
	Items map[string]json.RawMessage
	// head is the head of a routes document.
	head routesHead
}

// routesHead is what a routes document says of every host (Routes).
type routesHead struct {
	HSTS         string `json:"hsts"`
	RedirectCode int    `json:"redirectCode,omitempty"`
}

// Documents are the bodies of one plan's pushes.
type Documents struct {
	Certificates, Backends, Routes *Document
}

// InOrder lists the documents in the order they are pushed: certificates,
// then the backends that new routes name, then the routes.
func (d *Documents) InOrder() []*Document {
	return []*Document{d.Certificates, d.Backends, d.Routes}
}

// Encode encodes l into its documents. hint, when set, presizes each body
// as long as its (the last plan's): at 10,000 hosts the JSON is the
// controller's largest allocation after the model.
func (l Lua) Encode(hint *Documents) (*Documents, error) {
	size := func(d *Document) int {
		if d == nil {
			return 0
		}
		return len(d.Body)
	}
	var hb, hr int
	if hint != nil {
		hb, hr = size(hint.Backends), size(hint.Routes)
	}
	backends := nonNil(l.Backends)
	bw := newBody(BackendsPath, routesHead{}, hb, len(backends))
	for i := range backends {
		if err := bw.item(backends[i].Name, &backends[i]); err != nil {
			return nil, err
		}
	}
	rw := newBody(RoutesPath, routesHead{l.Routes.HSTS, l.Routes.RedirectCode}, hr, len(l.Routes.Hosts))
	hosts := make([]string, 0, len(l.Routes.Hosts))
	for h := range l.Routes.Hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts) // as encoding/json orders a map
	for _, h := range hosts {
		r := l.Routes.Hosts[h]
		if err := rw.item(h, &r); err != nil {
			return nil, err
		}
	}
	certs := l.Certificates
	if certs.Servers == nil {
		certs.Servers = map[string]string{}
	}
	if certs.Certificates == nil {
		certs.Certificates = []Certificate{}
	}
	c, err := json.Marshal(certs)
	if err != nil {
		return nil, err
	}
	return &Documents{Certificates: &Document{Path: CertificatesPath, Kind: "certificate", Body: c}, Backends: bw.finish(), Routes: rw.finish()}, nil
}

// nonNil gives b and its backends' endpoints empty lists for nil ones:
// Lua reads null as a value.
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

// body writes a document of named items: its head, the items separated
// by commas (backends as values, hosts as "name":value members), its
// tail. The items are kept as spans of it.
type body struct {
	doc   Document
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

// newBody starts the document at path (BackendsPath or RoutesPath, whose
// document carries head) for n items, presized for hint bytes; it writes
// what Backends and Routes encode to.
func newBody(path string, head routesHead, hint, n int) *body {
	w := &body{doc: Document{Path: path, Kind: "backend", head: head}, spans: make([]span, 0, n), tail: "]}"}
	w.buf.Grow(hint + hint/8)
	w.enc = json.NewEncoder(&w.buf) // escapes as json.Marshal does
	if path == RoutesPath {
		w.doc.Kind, w.key, w.tail = "host", true, "}}"
		_ = w.enc.Encode(head)          // a string and a number always encode
		w.buf.Truncate(w.buf.Len() - 2) // "}\n"
		w.buf.WriteString(`,"hosts":{`)
	} else {
		w.buf.WriteString(`{"backends":[`)
	}
	return w
}

// item appends v, named name.
func (w *body) item(name string, v any) error {
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
func (w *body) raw(name string, j json.RawMessage) error {
	if err := w.member(name); err != nil {
		return err
	}
	start := w.buf.Len()
	w.buf.Write(j)
	w.spans = append(w.spans, span{name, start, w.buf.Len()})
	return nil
}

// member starts an item: the comma, and for a member its quoted name.
func (w *body) member(name string) error {
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

// finish closes the document and returns it with its items by name.
func (w *body) finish() *Document {
	w.buf.WriteString(w.tail)
	doc := w.buf.Bytes()
	if cap(doc) > len(doc)+len(doc)/4 {
		doc = bytes.Clone(doc) // do not keep a mostly empty buffer
	}
	items := make(map[string]json.RawMessage, len(w.spans))
	for _, s := range w.spans {
		items[s.name] = doc[s.start:s.end:s.end]
	}
	d := w.doc
	d.Body, d.Items = doc, items
	return &d
}

// Patch is the body of a patch that turns a document of the items old
// into d: the items that changed or came, and the names of those gone;
// touched names both.
func (d *Document) Patch(old map[string]json.RawMessage) (patch []byte, touched []string, err error) {
	changed, deleted := map[string]json.RawMessage{}, []string{}
	for name, j := range d.Items {
		if string(old[name]) != string(j) {
			changed[name] = j
		}
	}
	for name := range old {
		if _, ok := d.Items[name]; !ok {
			deleted = append(deleted, name)
		}
	}
	sort.Strings(deleted)
	touched = slices.Concat(slices.Collect(maps.Keys(changed)), deleted)
	if d.Path == RoutesPath {
		patch, err = json.Marshal(RoutesPatch{HSTS: d.head.HSTS, RedirectCode: d.head.RedirectCode, Hosts: changed, Deleted: deleted})
		return patch, touched, err
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
	patch, err = json.Marshal(BackendsPatch{Backends: list, Deleted: deleted})
	return patch, touched, err
}

// Union is the body of d's items and those of old, a document of the same
// endpoint, that d lacks: before a reload both configs serve, and each
// must find its backends and hosts. old's items are oldItems, or when
// those are unknown (nil), read from oldBody. An item that is
// RefusedItem is left out: nginx holds what it held before, or nothing.
func (d *Document) Union(oldBody []byte, oldItems map[string]json.RawMessage) ([]byte, error) {
	if oldItems == nil {
		var err error
		if oldItems, err = itemsOf(d.Path, oldBody); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(d.Items)+len(oldItems)/8)
	for name := range d.Items {
		names = append(names, name)
	}
	for name := range oldItems {
		if _, ok := d.Items[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	w := newBody(d.Path, d.head, len(d.Body), len(names))
	for _, name := range names {
		j, ok := d.Items[name]
		if !ok {
			j = oldItems[name]
		}
		if string(j) == string(RefusedItem) {
			continue
		}
		if err := w.raw(name, j); err != nil {
			return nil, err
		}
	}
	return w.finish().Body, nil
}

// itemsOf reads the named items of a backends or routes document; none
// for nil.
func itemsOf(path string, doc []byte) (map[string]json.RawMessage, error) {
	if doc == nil {
		return nil, nil
	}
	if path == RoutesPath {
		var r struct {
			Hosts map[string]json.RawMessage `json:"hosts"`
		}
		err := json.Unmarshal(doc, &r)
		return r.Hosts, err
	}
	var b struct {
		Backends []json.RawMessage `json:"backends"`
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, err
	}
	items := make(map[string]json.RawMessage, len(b.Backends))
	for _, j := range b.Backends {
		var named struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(j, &named); err != nil {
			return nil, err
		}
		items[named.Name] = j
	}
	return items, nil
}
