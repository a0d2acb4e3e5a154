package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/nginxconf"
)

// The adversarial suite (TestAdversarial*): a hostile tenant of a shared
// cluster sends every kind of input Portico reads, built to break out of
// its place in nginx.conf or to stop the pipeline, while Ingresses of
// another namespace (a tenant) are created and must be served as fast
// as usual. After each round nginx.conf is parsed: no directive a payload
// names may be in it. make reliability prints its table (PORTICO_
// ADVERSARIAL_TABLE), docs/reliability.md holds the last one.

// tenantBound is how long a tenant's new Ingress may take to be served
// while hostile input is processed; alone it takes a push, well under a
// second. A queue blocked behind a hostile object never serves it.
const tenantBound = 5 * time.Second

// marker is what every payload's injected directive carries as an
// argument (or, for a location, its path /marker).
const marker = "pwned"

// hostileValues try to leave their place in nginx.conf (a directive's
// argument, a quoted string, a block) with each character nginx's
// tokenizer gives a meaning to, Unicode lookalikes of them, and size.
var hostileValues = []string{
	"x; return 299 " + marker + ";",
	"x\nreturn 299 " + marker + ";",
	"x} location /" + marker + " { return 299 " + marker + "; } location /y {",
	`x"; return 299 ` + marker + `; "`,
	`x'; return 299 ` + marker + `; '`,
	"${" + marker + "}",
	"x${; } location /" + marker + " { return 200 " + marker + "; } location /y { default_type b};",
	`x\"; return 299 ` + marker + `; #`,
	`x\\; return 299 ` + marker + `;`,
	"x\x00; return 299 " + marker + ";",
	"ｘ；ｒｅｔｕｒｎ 299 " + marker + "；",            // fullwidth letters and semicolons
	"x\u037e return 299 " + marker + "\u037e", // Greek question mark, drawn as ';'
	"x\u2028return 299 " + marker + ";\uff5d", // line separator, fullwidth '}'
	"1 ; include " + marker + ";",
	"on\r\nreturn 299 " + marker + ";",
	strings.Repeat("a", 24<<10) + "; return 299 " + marker + ";", // cut to fit every ConfigMap key under 1 MiB
}

// adversaryRow is one line of the adversarial table.
type adversaryRow struct {
	input                  string
	tried, refused, served int
	tenantChanges, delayed int
	slowest                time.Duration
	note                   string
}

var adversaryRows struct {
	mu   sync.Mutex
	rows []adversaryRow
}

// tally counts names as tried and refused or served, and returns those
// served.
func (r *adversaryRow) tally(names []string, refused func(name string) bool) (served []string) {
	for _, name := range names {
		r.tried++
		if refused(name) {
			r.refused++
		} else {
			r.served++
			served = append(served, name)
		}
	}
	return served
}

// record records r with what the tenant tn saw.
func (tn *tenant) record(t *testing.T, r adversaryRow) {
	t.Helper()
	r.tenantChanges, r.delayed, r.slowest = tn.changes, tn.delayed, tn.slowest
	recordAdversary(t, r)
}

func recordAdversary(t *testing.T, r adversaryRow) {
	t.Helper()
	t.Logf("%s: %d tried, %d refused, %d served; tenant changes %d, delayed %d, slowest %s; %s",
		r.input, r.tried, r.refused, r.served, r.tenantChanges, r.delayed, r.slowest.Round(time.Millisecond), r.note)
	adversaryRows.mu.Lock()
	defer adversaryRows.mu.Unlock()
	adversaryRows.rows = append(adversaryRows.rows, r)
}

// writeAdversaryTable writes the recorded rows as an aligned table to the
// file named by $PORTICO_ADVERSARIAL_TABLE, if set and any was recorded.
func writeAdversaryTable() error {
	adversaryRows.mu.Lock()
	defer adversaryRows.mu.Unlock()
	lines := make([]string, 0, len(adversaryRows.rows))
	for _, r := range adversaryRows.rows {
		lines = append(lines, fmt.Sprintf("%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s", r.input, r.tried, r.refused, r.served,
			r.tenantChanges, r.delayed, r.slowest.Round(10*time.Millisecond), r.note))
	}
	return writeTable("PORTICO_ADVERSARIAL_TABLE", "input\ttried\trefused\tserved\ttenant changes\tdelayed\tslowest\tnotes", lines)
}

// tenant is a namespace whose Ingresses behave; change adds one.
type tenant struct {
	ns  string
	app *app
	n   int
	// changes, delayed and slowest count what change saw.
	changes, delayed int
	slowest          time.Duration
}

func newTenant(t *testing.T) *tenant {
	ns := namespace(t, "tenant")
	return &tenant{ns: ns, app: newApp(t, ns, "web", 1, "")}
}

// change creates an Ingress for a new host of the tenant (with a server
// block when serverBlock, which needs snippets allowed) and waits until it
// is served; longer than tenantBound fails the test and counts as delayed.
func (tn *tenant) change(t *testing.T, serverBlock bool) string {
	t.Helper()
	tn.n++
	host := fmt.Sprintf("t%d.%s.example.com", tn.n, tn.ns)
	var a map[string]string
	if serverBlock {
		a = needsServerBlock()
	}
	createIngress(t, newIngress(tn.ns, fmt.Sprintf("t%d", tn.n), a, hostRule(host, prefixPath("/", tn.app.name))))
	took := tn.waitServed(host, 4*tenantBound)
	tn.changes++
	tn.slowest = max(tn.slowest, took)
	if took > tenantBound {
		tn.delayed++
		t.Errorf("tenant %s: new Ingress for %s served after %s, want within %s", tn.ns, host, took.Round(time.Millisecond), tenantBound)
	}
	return host
}

// waitServed waits up to limit for host to be served by the tenant's app
// and returns how long it took (limit when it never was).
func (tn *tenant) waitServed(host string, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		if r, err := tryGet(host, "/"); err == nil && r.code == 200 && r.echo != nil && r.echo.Service == tn.app.name {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return limit
}

// modelView is the part of /status?model=true the suite reads.
type modelView struct {
	Ingresses       []model.IngressRef `json:"ingresses"`
	Diagnostics     []diag.Diagnostic  `json:"diagnostics"`
	ConfigMapValues map[string]string  `json:"configMapValues"`
}

// currentModel returns the model of the controller's last sync.
func currentModel(t *testing.T) modelView {
	t.Helper()
	var out struct {
		Model *modelView `json:"model"`
	}
	eventually(t, "the model of the last sync", func() error {
		code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/status?model=true", env.portico.healthzPort))
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("/status: %d", code)
		}
		out.Model = nil
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			return err
		}
		if out.Model == nil {
			return fmt.Errorf("no model now (a sync runs)")
		}
		return nil
	})
	return *out.Model
}

// modelWith waits until the model holds every Ingress of ns in names and
// returns it.
func modelWith(t *testing.T, ns string, names []string) modelView {
	t.Helper()
	var m modelView
	eventually(t, fmt.Sprintf("the model holds the %d hostile Ingresses", len(names)), func() error {
		m = currentModel(t)
		have := map[string]bool{}
		for _, r := range m.Ingresses {
			if r.Namespace == ns {
				have[r.Name] = true
			}
		}
		var missing []string
		for _, n := range names {
			if !have[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%d not in it, such as %s/%s (nginx refused the config with it and it is held back?)", len(missing), ns, missing[0])
		}
		return nil
	})
	return m
}

// refusedFields returns, per object name of ns and kind, the fields of its
// Error and Warning diagnostics ("" for the object as a whole).
func (m modelView) refusedFields(kind, ns string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, d := range m.Diagnostics {
		if d.Object.Kind != kind || d.Object.Namespace != ns || d.Severity == diag.Info {
			continue
		}
		if out[d.Object.Name] == nil {
			out[d.Object.Name] = map[string]bool{}
		}
		out[d.Object.Name][d.Field] = true
	}
	return out
}

// checkConfClean parses the nginx.conf nginx runs and fails t on any
// directive a payload names: one called marker, or with marker (or
// /marker) as an argument. The entries of a map or geo block are keys, not
// directives: a key may hold a payload's text (block-user-agents) but
// never leave its block.
func checkConfClean(t *testing.T) {
	t.Helper()
	ds, err := nginxconf.Parse([]byte(runningConf(t)))
	if err != nil {
		t.Fatalf("nginx.conf does not parse: %v", err)
	}
	var walk func([]*nginxconf.Directive, bool)
	walk = func(ds []*nginxconf.Directive, keys bool) {
		for _, d := range ds {
			bad := !keys && strings.Contains(strings.ToLower(d.Name), marker)
			for _, a := range d.Args {
				bad = bad || a == marker || a == "/"+marker
			}
			if bad {
				t.Errorf("nginx.conf line %d holds a directive a payload named: %s %q", d.Line, d.Name, d.Args)
			}
			walk(d.Block, d.Name == "map" || d.Name == "geo")
		}
	}
	walk(ds, false)
}

// createAll creates objs with a client fast enough for bulk creation; an
// object the API server refuses is reported in refused, others fail t.
func createAll(t *testing.T, c kubernetes.Interface, ings []*networkingv1.Ingress) (created []string, apiRefused int) {
	t.Helper()
	var mu sync.Mutex
	err := eachOn8(len(ings), func(i int) error {
		ing := ings[i]
		_, err := c.NetworkingV1().Ingresses(ing.Namespace).Create(context.Background(), ing, metav1.CreateOptions{})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			created = append(created, ing.Name)
		case strings.Contains(err.Error(), "is invalid") || strings.Contains(err.Error(), "Invalid value"):
			apiRefused++
		default:
			return fmt.Errorf("create %s: %w", ing.Name, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return created, apiRefused
}

// deleteIngresses removes every Ingress of ns.
func deleteIngresses(t *testing.T, ns string) {
	t.Helper()
	if err := env.client.NetworkingV1().Ingresses(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Every annotation Portico knows gets every hostile value, one Ingress
// each, in rounds while a tenant's Ingresses are created: each value is
// refused or taken by its typed parser, none reaches nginx.conf as a
// directive, the tenant is never delayed. Snippets are off here (their
// values are raw nginx by design); TestAdversarialSnippets tries them.
func TestAdversarialAnnotations(t *testing.T) {
	putConfigMap(t, map[string]string{"annotations-risk-level": "Critical"})
	tn := newTenant(t)
	tn.change(t, false) // the tenant works before the hostile input
	ns := namespace(t, "hostile")
	newApp(t, ns, "a", 1, "")
	fast := fastClient(t)
	names := annotations.SupportedNames()
	row := adversaryRow{input: fmt.Sprintf("annotation values (%d annotations × %d)", len(names), len(hostileValues))}
	const perRound = 40
	var taken []string
	for from := 0; from < len(names); from += perRound {
		round := names[from:min(from+perRound, len(names))]
		var ings []*networkingv1.Ingress
		field, which := map[string]string{}, map[string]string{}
		for i, n := range round {
			for j, v := range hostileValues {
				name := fmt.Sprintf("a%d-%d", from+i, j)
				field[name] = "metadata.annotations[" + annotations.Prefix + n + "]"
				which[name] = fmt.Sprintf("%s=value %d", n, j)
				ings = append(ings, newIngress(ns, name, map[string]string{annotations.Prefix + n: v},
					hostRule(name+".hostile.example.com", prefixPath("/", "a"))))
			}
		}
		created, apiRefused := createAll(t, fast, ings)
		tn.change(t, false)
		m := modelWith(t, ns, created)
		refused := m.refusedFields("Ingress", ns)
		row.tried, row.refused = row.tried+apiRefused, row.refused+apiRefused
		for _, name := range row.tally(created, func(name string) bool { return refused[name][field[name]] }) {
			taken = append(taken, which[name])
		}
		checkConfClean(t)
		deleteIngresses(t, ns)
	}
	tn.change(t, false)
	slices.Sort(taken)
	t.Logf("hostile values taken by a typed parser (none reached nginx.conf as a directive): %s", strings.Join(taken, ", "))
	row.note = "every annotation the model knows (annotations.SupportedNames), risk level Critical, snippets off"
	tn.record(t, row)
}

// With snippets allowed (the operator's choice, risk level Critical), a
// snippet may add directives to its own block but never leave it: every
// escape attempt is refused by nginx's tokenizer rules.
func TestAdversarialSnippets(t *testing.T) {
	allowSnippets(t)
	tn := newTenant(t)
	tn.change(t, true)
	ns := namespace(t, "hostile")
	newApp(t, ns, "a", 1, "")
	// The payload alone first: valid nginx, so nginx -t would take
	// it if the model did.
	const alone = `default_type a${; } location /` + marker + ` { return 200 "` + marker + `"; } location /y { default_type b};`
	createIngress(t, newIngress(ns, "alone", map[string]string{annotations.Prefix + "configuration-snippet": alone},
		hostRule("alone.hostile.example.com", prefixPath("/", "a"))))
	tn.change(t, false)
	m := modelWith(t, ns, []string{"alone"})
	checkConfClean(t)
	if r := get(t, "alone.hostile.example.com", "/"+marker); r.code == 200 && strings.Contains(r.body, marker) {
		t.Errorf("the snippet closed its location: /%s answers %d %q", marker, r.code, short(r.body))
	}
	if !m.refusedFields("Ingress", ns)["alone"]["metadata.annotations["+annotations.Prefix+"configuration-snippet]"] {
		t.Errorf("the snippet %q is taken", alone)
	}
	escapes := []string{
		alone,
		"} location /" + marker + " { return 299 " + marker + "; } location /y {",
		"default_type b}; } location /" + marker + " { return 299 " + marker + "; } location /y { default_type c};",
		`add_header X-A "a"; } location /` + marker + ` { return 299 ` + marker + `; } location /y { add_header X-B "b";`,
		"return 204; }\nserver { listen 1; server_name " + marker + "; }\nserver {",
		"content_by_lua_block { x = \"a }\n } location /" + marker + " { return 299 " + marker + "; } location /y {",
		"content_by_lua_block { ---[[ }\n } location /" + marker + " { return 299 " + marker + "; } location /y {",
		"if ($arg_a) {",
		`return 200 "` + marker,
		"return 204 " + marker + `\`,
	}
	var ings []*networkingv1.Ingress
	field, value := map[string]string{}, map[string]string{}
	for i, s := range escapes {
		for _, kind := range []string{"configuration-snippet", "server-snippet"} {
			name := fmt.Sprintf("s%d-%s", i, kind[:3])
			field[name], value[name] = "metadata.annotations["+annotations.Prefix+kind+"]", s
			ings = append(ings, newIngress(ns, name, map[string]string{annotations.Prefix + kind: s},
				hostRule(name+".hostile.example.com", prefixPath("/", "a"))))
		}
	}
	created, apiRefused := createAll(t, fastClient(t), ings)
	tn.change(t, true)
	tn.change(t, false)
	m = modelWith(t, ns, created)
	refused := m.refusedFields("Ingress", ns)
	row := adversaryRow{input: "snippet escapes (snippets allowed)", tried: apiRefused, refused: apiRefused}
	for _, name := range row.tally(created, func(name string) bool { return refused[name][field[name]] }) {
		t.Errorf("%s: snippet %q taken", name, value[name])
	}
	checkConfClean(t)
	for _, name := range created {
		if r := get(t, name+".hostile.example.com", "/"+marker); r.code == 299 || strings.Contains(r.body, marker) {
			t.Errorf("%s: /%s answers %d %q", name, marker, r.code, short(r.body))
		}
	}
	eventWith(t, ns, "alone", "InvalidAnnotation", "stay in their block")
	row.note = "configuration- and server-snippet: '}' in a word, ${, quotes, Lua strings and comments, open blocks"
	tn.record(t, row)
}

// Every ConfigMap key Portico knows gets every hostile value (all keys at
// once, one value after another): each is refused and the last good value
// kept, or taken by its typed parser; none reaches nginx.conf as a
// directive; a tenant's Ingress created after each change is served as
// fast as usual.
func TestAdversarialConfigMap(t *testing.T) {
	tn := newTenant(t)
	tn.change(t, false)
	var keys []string
	for _, k := range model.ConfigKeys() {
		// The ConfigMap's snippets are raw nginx by design (the
		// operator's); TestConfigMapSnippets tries them.
		if k.Supported() && !slices.Contains(model.SnippetKeys, k.Name) {
			keys = append(keys, k.Name)
		}
	}
	row := adversaryRow{input: fmt.Sprintf("ConfigMap values (%d keys × %d)", len(keys), len(hostileValues))}
	for _, v := range hostileValues {
		// Every key at once must stay under the API server's 1 MiB.
		if limit := (900 << 10) / len(keys); len(v) > limit {
			v = v[len(v)-limit:]
		}
		data := map[string]string{}
		for _, k := range keys {
			data[k] = v
		}
		putConfigMap(t, data)
		tn.change(t, false)
		var m modelView
		eventually(t, "the hostile ConfigMap applied", func() error {
			m = currentModel(t)
			refused := m.refusedFields("ConfigMap", configMapNamespace)[configMapName]
			for _, k := range keys {
				if !refused["data["+k+"]"] && m.ConfigMapValues[k] != v {
					return fmt.Errorf("key %s neither refused nor in effect yet", k)
				}
			}
			return nil
		})
		refused := m.refusedFields("ConfigMap", configMapNamespace)[configMapName]
		row.tally(keys, func(k string) bool { return refused["data["+k+"]"] })
		checkConfClean(t)
	}
	row.note = "every key the model parses (model.ConfigKeys) but the snippets"
	tn.record(t, row)
}

// Hostile paths (every path type) and hosts (rules and spec.tls): the API
// server refuses some, Portico refuses the rest or serves them as typed
// values; none reaches nginx.conf as a directive.
func TestAdversarialPathsAndHosts(t *testing.T) {
	tn := newTenant(t)
	tn.change(t, false)
	ns := namespace(t, "hostile")
	newApp(t, ns, "a", 1, "")
	paths := []string{
		"/x; return 299 " + marker + ";", "/x{", "/x}", "/x\nreturn 299 " + marker + ";", "/${" + marker + "}",
		`/x"; return 299 ` + marker + `; #`, "/x'", `/x\`, "/x#", "/ｘ；", "/x\x00", "/" + strings.Repeat("p", 5000),
		"/x y", "/x;", "/x$", "/..;/" + marker, "/(.*)" + "}", "~* ^/" + marker, "/x\u037e",
	}
	hosts := []string{
		marker + ";.example.com", "a}.example.com", "a\n.example.com", "ａ.example.com", "${" + marker + "}.example.com",
		"*.*.example.com", "-a.example.com", "a..example.com", strings.Repeat("l", 64) + ".example.com", "a.example.com;",
		`a"b.example.com`, "a b.example.com", "A.EXAMPLE.COM",
	}
	var ings []*networkingv1.Ingress
	n := 0
	next := func() string { n++; return fmt.Sprintf("p%d", n) }
	for _, p := range paths {
		for _, pt := range []networkingv1.PathType{networkingv1.PathTypeImplementationSpecific, networkingv1.PathTypePrefix, networkingv1.PathTypeExact} {
			name := next()
			ings = append(ings, newIngress(ns, name, nil, hostRule(name+".hostile.example.com", pathOf(p, pt, "a", 80))))
		}
	}
	for _, h := range hosts {
		name := next()
		ings = append(ings, newIngress(ns, name, nil, hostRule(h, prefixPath("/", "a"))))
		name = next()
		ing := newIngress(ns, name, nil, hostRule(name+".hostile.example.com", prefixPath("/", "a")))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{h}, SecretName: "absent"}}
		ings = append(ings, ing)
	}
	created, apiRefused := createAll(t, fastClient(t), ings)
	tn.change(t, false)
	m := modelWith(t, ns, created)
	refused := m.refusedFields("Ingress", ns)
	row := adversaryRow{input: fmt.Sprintf("paths (%d × 3 types), hosts (%d, rules and TLS)", len(paths), len(hosts)),
		tried: apiRefused, refused: apiRefused}
	row.tally(created, func(name string) bool { return len(refused[name]) > 0 })
	checkConfClean(t)
	tn.change(t, false)
	row.note = fmt.Sprintf("%d refused by the API server itself", apiRefused)
	tn.record(t, row)
}

// Malformed Secrets in one namespace, named by its Ingresses (spec.tls,
// auth-tls-secret, proxy-ssl-secret): each is refused with a Warning
// Event on the Ingress that names it, and another namespace's changes are
// served as fast as usual, its TLS host with its own certificate, before
// and after an nginx restart; after the restart every tenant host (Lua
// routed or with a server block) is back within tenantBound.
func TestAdversarialSecrets(t *testing.T) {
	allowSnippets(t) // for the tenant's host with a server block
	tn := newTenant(t)
	tc := newCert(t, time.Now().AddDate(1, 0, 0), "tls."+tn.ns+".example.com")
	putTLSSecret(t, tn.ns, "tls", tc)
	tlsIng := newIngress(tn.ns, "tls", nil, hostRule("tls."+tn.ns+".example.com", prefixPath("/", tn.app.name)))
	tlsIng.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"tls." + tn.ns + ".example.com"}, SecretName: "tls"}}
	createIngress(t, tlsIng)
	servesCert(t, "tls."+tn.ns+".example.com", tc)
	before := []string{tn.change(t, false), tn.change(t, true)}

	ns := namespace(t, "hostile")
	newApp(t, ns, "a", 1, "")
	good := newCert(t, time.Now().AddDate(1, 0, 0), "h.hostile.example.com")
	other := newCert(t, time.Now().AddDate(1, 0, 0), "o.hostile.example.com")
	block := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	junk := block("CERTIFICATE", []byte("valid base64, not a certificate"))
	huge := bytes.Repeat(good.crt, (200<<10)/len(good.crt)+1)
	chains := map[string][]byte{
		"junk-block":       append(append([]byte{}, good.crt...), junk...),
		"junk-first":       append(append([]byte{}, junk...), good.crt...),
		"key-block":        append(append([]byte{}, good.crt...), block("PRIVATE KEY", []byte{1, 2, 3})...),
		"broken-base64":    append(append([]byte{}, good.crt...), "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"...),
		"trailing-garbage": append(append([]byte{}, good.crt...), "garbage; return 299 pwned;"...),
		"huge-chain":       huge,
		"lookalike-begin":  []byte(strings.Replace(string(good.crt), "-----BEGIN", "‐‐‐‐‐BEGIN", 1)),
		"nul":              append(append([]byte{}, good.crt[:40]...), append([]byte{0}, good.crt[40:]...)...),
		"empty":            {},
	}
	var ings []*networkingv1.Ingress
	row := adversaryRow{input: "TLS and CA Secrets (malformed)"}
	i := 0
	ingFor := func(secret string, a map[string]string) {
		i++
		name := fmt.Sprintf("s%d", i)
		if secret == "huge-chain" && a[annotations.Prefix+"auth-tls-secret"] != "" {
			return // a 200 KiB CA bundle is a valid ca.crt
		}
		ing := newIngress(ns, name, a, hostRule(name+".hostile.example.com", prefixPath("/", "a")))
		if a == nil {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{name + ".hostile.example.com"}, SecretName: secret}}
		}
		ings = append(ings, ing)
	}
	for name, chain := range chains {
		putSecret(t, ns, name, map[string][]byte{"tls.crt": chain, "tls.key": good.key, "ca.crt": chain})
		ingFor(name, nil)
		ingFor(name, map[string]string{annotations.Prefix + "auth-tls-secret": name})
		ingFor(name, map[string]string{annotations.Prefix + "backend-protocol": "HTTPS", annotations.Prefix + "proxy-ssl-secret": name})
	}
	putSecret(t, ns, "mismatched", map[string][]byte{"tls.crt": good.crt, "tls.key": other.key, "ca.crt": good.crt})
	ingFor("mismatched", nil)
	ingFor("mismatched", map[string]string{annotations.Prefix + "backend-protocol": "HTTPS", annotations.Prefix + "proxy-ssl-secret": "mismatched"})
	created, apiRefused := createAll(t, env.client, ings)
	row.tried, row.refused = apiRefused, apiRefused

	after := []string{tn.change(t, false), tn.change(t, true)}
	m := modelWith(t, ns, created)
	refused := m.refusedFields("Ingress", ns)
	for _, name := range row.tally(created, func(name string) bool { return len(refused[name]) > 0 }) {
		t.Errorf("Ingress %s/%s naming a malformed Secret is taken whole", ns, name)
	}
	servesCert(t, "tls."+tn.ns+".example.com", tc)
	eventWith(t, ns, "s1", "InvalidTLSSecret")
	checkConfClean(t)

	// nginx dies with all of it present: the new nginx serves every
	// tenant host again, routed and with a server block.
	master, _ := nginxProcs(env.portico)
	if master == 0 {
		t.Fatal("no nginx master under the controller")
	}
	if err := syscall.Kill(master, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for _, h := range append(before, after...) {
		if took := tn.waitServed(h, time.Minute); took == time.Minute {
			t.Errorf("after the nginx restart %s is not served", h)
		}
	}
	if back := time.Since(killed); back > 10*time.Second {
		t.Errorf("tenant hosts back %s after the kill, want within 10 s", back)
	}
	servesCert(t, "tls."+tn.ns+".example.com", tc)
	tn.change(t, false)
	tn.change(t, true)
	row.note = "junk, non-certificate and broken blocks, trailing text, 200 KiB chain, NUL, lookalike dashes, mismatched key; nginx killed with all present"
	tn.record(t, row)
}

// The validating webhook reviews networking.k8s.io/v1 Ingresses only and
// refuses, with a message, every other kind, version or malformed review,
// whatever it carries.
func TestAdversarialWebhookReviews(t *testing.T) {
	caPEM, certFile, keyFile := testCA(t, t.TempDir())
	port := freePort()
	startReplica(t, "webhook", nil, "--update-status=false", fmt.Sprintf("--validating-webhook=127.0.0.1:%d", port),
		"--validating-webhook-certificate="+certFile, "--validating-webhook-key="+keyFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	snippet := map[string]string{annotations.Prefix + "configuration-snippet": "} location /" + marker + " { return 299; } location /y {"}
	object := func(apiVersion, kind string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": kind,
			"metadata": map[string]any{"name": "x", "namespace": "default", "annotations": snippet},
			"spec":     map[string]any{"ingressClassName": "nginx", "rules": []any{map[string]any{"host": "x.example.com"}}}})
		return b
	}
	review := func(group, version, kind string, obj json.RawMessage) []byte {
		b, _ := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
			"request": map[string]any{"uid": "u1", "kind": map[string]string{"group": group, "version": version, "kind": kind},
				"resource": map[string]string{"group": group, "version": version, "resource": strings.ToLower(kind) + "s"},
				"name":     "x", "namespace": "default", "operation": "CREATE", "object": obj}})
		return b
	}
	reviews := []struct {
		name string
		body []byte
	}{
		{"ConfigMap", review("", "v1", "ConfigMap", object("v1", "ConfigMap"))},
		{"IngressClass", review("networking.k8s.io", "v1", "IngressClass", object("networking.k8s.io/v1", "IngressClass"))},
		{"extensions/v1beta1 Ingress", review("extensions", "v1beta1", "Ingress", object("extensions/v1beta1", "Ingress"))},
		{"networking.k8s.io/v1beta1 Ingress", review("networking.k8s.io", "v1beta1", "Ingress", object("networking.k8s.io/v1beta1", "Ingress"))},
		{"v1 Ingress with an escaping snippet", review("networking.k8s.io", "v1", "Ingress", object("networking.k8s.io/v1", "Ingress"))},
		{"v1 Ingress whose object is a list", review("networking.k8s.io", "v1", "Ingress", json.RawMessage(`[1,2]`))},
		{"v1 Ingress without an object", review("networking.k8s.io", "v1", "Ingress", nil)},
		{"admission.k8s.io/v1beta1 review", bytes.Replace(review("networking.k8s.io", "v1", "Ingress", object("networking.k8s.io/v1", "Ingress")),
			[]byte(`"admission.k8s.io/v1"`), []byte(`"admission.k8s.io/v1beta1"`), 1)},
		{"no request", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`)},
		{"not JSON", []byte("} location /" + marker + " {")},
		{"9 MiB", append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"`), bytes.Repeat([]byte("a"), 9<<20)...)},
	}
	row := adversaryRow{input: "webhook reviews", tried: len(reviews)}
	for _, rv := range reviews {
		resp, err := client.Post(fmt.Sprintf("https://127.0.0.1:%d/networking/v1/ingresses", port), "application/json", bytes.NewReader(rv.body))
		if err != nil {
			t.Fatalf("%s: %v", rv.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out struct {
			Response *struct {
				Allowed bool `json:"allowed"`
				Status  *struct {
					Message string `json:"message"`
				} `json:"status"`
			} `json:"response"`
		}
		switch {
		case resp.StatusCode >= 400:
			row.refused++
		case json.Unmarshal(body, &out) == nil && out.Response != nil && !out.Response.Allowed && out.Response.Status != nil && out.Response.Status.Message != "":
			row.refused++
			t.Logf("%s: denied: %s", rv.name, short(out.Response.Status.Message))
		default:
			row.served++
			t.Errorf("%s: %d %s, want a denial with a message or a 4xx", rv.name, resp.StatusCode, short(string(body)))
		}
	}
	row.note = "other kinds and versions (each with an escaping snippet), a list or no object, no request, not JSON, 9 MiB"
	recordAdversary(t, row)
}

// A pod-network neighbour reaches the healthz port (all interfaces) for
// /healthz and /metrics only: the full views (nginx.conf, /status and its
// model, profiles) answer loopback clients only.
func TestAdversarialHealthzFromPodNetwork(t *testing.T) {
	h, err := env.net.AddHost("neighbour")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	want := map[string]int{"/healthz": 200, "/metrics": 200, "/nginx.conf": 403, "/routed-hosts.conf": 403, "/status": 403, "/status?model=true": 403, "/debug/pprof/": 403}
	for path, code := range want {
		url := fmt.Sprintf("http://%s:%d%s", env.net.Gateway(), env.portico.healthzPort, path)
		out, err := h.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url).Output()
		if err != nil {
			t.Fatalf("curl %s from the pod network: %v %s", url, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != fmt.Sprint(code) {
			t.Errorf("GET %s from the pod network: %s, want %d", path, got, code)
		}
		// From loopback, as portico diagnose and conf inside the Pod.
		if got, _, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d%s", env.portico.healthzPort, path)); err != nil || (got != 200 && path != "/debug/pprof/") {
			t.Errorf("GET %s from loopback: %d %v", path, got, err)
		}
	}
}
