package render

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"github.com/portico-ingress/portico/pkg/plan"
)

// RoutedHosts renders the routed-hosts file of p (plan.RoutedHosts): the
// hosts the Lua router serves as the server blocks they stand for. nginx
// does not load it, so it carries no checksum.
func RoutedHosts(p *plan.Plan) ([]byte, error) {
	var f RoutedHostsFile
	return f.Render(p)
}

// RoutedHostsFile renders the routed-hosts file of one plan after
// another, as RoutedHosts does: a host whose routes (its item of the
// routes document) and server-alias names are those of the last render,
// in the same context (nginx.conf's settings and router locations), keeps
// its text. At 10,000 hosts a whole render takes about a second; a change
// to one host, milliseconds. Not safe for concurrent use.
type RoutedHostsFile struct {
	context routedContext
	hosts   map[string]routedText
}

// routedContext is what a host's text depends on besides its routes.
type routedContext struct {
	ctx       plan.TermsContext
	locations []plan.RouterLocation
	hsts      string
}

// routedText is a host's text and what it was rendered from: its item
// of the last plan's routes document (a slice of its body, which the
// controller keeps anyway) and its aliases.
type routedText struct {
	item    []byte
	aliases string
	text    []byte
}

// Render renders p's routed-hosts file.
func (f *RoutedHostsFile) Render(p *plan.Plan) ([]byte, error) {
	v := p.RoutedHosts()
	c := routedContext{ctx: v.Context, hsts: v.HSTS}
	if r := v.Context.Router; r != nil {
		c.ctx.Router, c.locations = nil, r.Locations
	}
	if f.hosts == nil || !reflect.DeepEqual(c, f.context) {
		f.hosts = map[string]routedText{}
	}
	f.context = c
	var buf bytes.Buffer
	buf.Grow(f.size())
	if err := tmpl.ExecuteTemplate(&buf, "routed.tmpl", v); err != nil {
		return nil, fmt.Errorf("render the routed-hosts file: %w", err)
	}
	hosts := make(map[string]routedText, len(v.Hosts))
	for i := range v.Hosts {
		h := &v.Hosts[i]
		item, aliases := p.Documents.Routes.Items[h.Host], strings.Join(h.Aliases, " ")
		t, ok := f.hosts[h.Host]
		if !ok || !bytes.Equal(t.item, item) || t.aliases != aliases {
			var hb bytes.Buffer
			if err := tmpl.ExecuteTemplate(&hb, "routed server", v.Server(h)); err != nil {
				return nil, fmt.Errorf("render the routed-hosts file: %s: %w", h.Host, err)
			}
			t.text = hb.Bytes()
		}
		t.item, t.aliases = item, aliases
		hosts[h.Host] = t
		buf.Write(t.text)
	}
	f.hosts = hosts
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// size is about the length of the last render.
func (f *RoutedHostsFile) size() int {
	n := 1 << 10
	for _, t := range f.hosts {
		n += len(t.text)
	}
	return n
}
