package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// incomingTrace is the traceparent a client sends, with its tracestate.
const (
	incomingTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	incomingState = "vendor=opaque"
)

var traceparent = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)

// traceSeen is what the backend saw of the trace context.
type traceSeen struct{ traceID, parentID, flags, state string }

// tracedBy is what the backend behind host saw of the trace context of a
// request with headers hdr (traceparent "" when it got none).
func tracedBy(t *testing.T, host string, hdr map[string]string) traceSeen {
	t.Helper()
	return tracedAt(t, host, "/", hdr)
}

// tracedAt is tracedBy for a request to path.
func tracedAt(t *testing.T, host, path string, hdr map[string]string) traceSeen {
	t.Helper()
	var seen traceSeen
	expect(t, host+path+" reaches the backend", "GET", host, path, hdr, "", func(r reply) error {
		if r.code != 200 || r.echo == nil || r.echo.Service != "a" {
			return fmt.Errorf("want the backend's 200")
		}
		tp := strings.Join(r.echo.Headers["Traceparent"], ",")
		seen = traceSeen{state: strings.Join(r.echo.Headers["Tracestate"], ",")}
		if m := traceparent.FindStringSubmatch(tp); m != nil {
			seen.traceID, seen.parentID, seen.flags = m[1], m[2], m[3]
		} else if tp != "" {
			return fmt.Errorf("the backend got traceparent %q, no valid one", tp)
		}
		return nil
	})
	return seen
}

// enable-opentelemetry: the backend gets a traceparent that continues the
// client's trace (same trace id and flags, a new parent id, its
// tracestate) while trusted, or starts a new one (the ConfigMap's or the
// annotation's opentelemetry-trust-incoming-span false, which also drops
// the tracestate), and a new one when the client sent none; on a routed
// host (which stays routed) and on a server block alike. An Ingress with
// enable-opentelemetry "false" passes the client's header untouched; with
// the ConfigMap's off, the annotation turns it on for its Ingress alone.
func TestTracingTraceparent(t *testing.T) {
	ns := namespace(t, "trace")
	newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "routed", nil, hostRule("routed.trace.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "static", needsServerBlock(), hostRule("static.trace.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "untrusted", map[string]string{ann + "opentelemetry-trust-incoming-span": "false"},
		hostRule("untrusted.trace.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "off", map[string]string{ann + "enable-opentelemetry": "false"},
		hostRule("off.trace.example.com", prefixPath("/", "a"))))
	in := map[string]string{"traceparent": incomingTrace, "tracestate": incomingState}
	allowSnippets(t, "enable-opentelemetry", "true")
	eventually(t, "the ConfigMap's tracing in effect", func() error {
		if s := tracedBy(t, "routed.trace.example.com", nil); s.traceID == "" {
			return fmt.Errorf("no traceparent yet")
		}
		return nil
	})

	for _, h := range []string{"routed.trace.example.com", "static.trace.example.com"} {
		s := tracedBy(t, h, in)
		if s.traceID != "4bf92f3577b34da6a3ce929d0e0e4736" || s.flags != "01" || s.parentID == "00f067aa0ba902b7" || s.state != incomingState {
			t.Errorf("%s: the backend saw %+v; want the client's trace and flags continued with a new parent id and its tracestate", h, s)
		}
		fresh := tracedBy(t, h, nil)
		if fresh.traceID == "" || fresh.traceID == s.traceID || fresh.flags != "01" {
			t.Errorf("%s without a traceparent: the backend saw %+v; want a new sampled trace", h, fresh)
		}
		if again := tracedBy(t, h, nil); again.traceID == fresh.traceID {
			t.Errorf("%s: two requests share trace id %s", h, again.traceID)
		}
	}
	if isServerBlock(t, "routed.trace.example.com") {
		t.Error("the ConfigMap's tracing gave a routed host a server block")
	}
	if s := tracedBy(t, "untrusted.trace.example.com", in); s.traceID == "" || s.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" || s.state != "" {
		t.Errorf("trust-incoming-span false: the backend saw %+v; want a new trace without the tracestate", s)
	}
	if s := tracedBy(t, "off.trace.example.com", in); s.traceID != "4bf92f3577b34da6a3ce929d0e0e4736" || s.parentID != "00f067aa0ba902b7" {
		t.Errorf("enable-opentelemetry false: the backend saw %+v; want the client's header untouched", s)
	}

	// Trust off for all; then tracing off for all but one Ingress.
	allowSnippets(t, "enable-opentelemetry", "true", "opentelemetry-trust-incoming-span", "false")
	eventually(t, "the ConfigMap's trust off in effect", func() error {
		if s := tracedBy(t, "routed.trace.example.com", in); s.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" || s.traceID == "" {
			return fmt.Errorf("the backend saw %+v", s)
		}
		return nil
	})
	createIngress(t, newIngress(ns, "on", map[string]string{ann + "enable-opentelemetry": "true"}, hostRule("on.trace.example.com", prefixPath("/", "a"))))
	allowSnippets(t)
	eventually(t, "the ConfigMap's tracing off", func() error {
		if s := tracedBy(t, "routed.trace.example.com", nil); s.traceID != "" {
			return fmt.Errorf("the backend still gets %+v", s)
		}
		return nil
	})
	if s := tracedBy(t, "on.trace.example.com", in); s.traceID != "4bf92f3577b34da6a3ce929d0e0e4736" || s.parentID == "00f067aa0ba902b7" {
		t.Errorf("the annotation alone: the backend saw %+v; want the client's trace continued", s)
	}
	if !isServerBlock(t, "on.trace.example.com") {
		t.Error("a host with an OpenTelemetry annotation is routed in Lua; it needs a server block")
	}
}

// otlpCollector records the spans posted to it as OTLP/HTTP JSON.
type otlpCollector struct {
	mu    sync.Mutex
	spans []otlpSpan
	addr  string
}

// otlpSpan is the part of an OTLP span the test reads, with its
// resource's service.name.
type otlpSpan struct {
	Service      string
	TraceID      string `json:"traceId"`
	SpanID       string `json:"spanId"`
	ParentSpanID string `json:"parentSpanId"`
	Name         string `json:"name"`
	Attributes   []struct {
		Key   string         `json:"key"`
		Value map[string]any `json:"value"`
	} `json:"attributes"`
}

func startCollector(t *testing.T) *otlpCollector {
	t.Helper()
	c := &otlpCollector{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = l.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []struct {
						Key   string `json:"key"`
						Value struct {
							StringValue string `json:"stringValue"`
						} `json:"value"`
					} `json:"attributes"`
				} `json:"resource"`
				ScopeSpans []struct {
					Spans []otlpSpan `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/json" ||
			json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "not OTLP/HTTP JSON", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, rs := range body.ResourceSpans {
			service := ""
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					service = a.Value.StringValue
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					s.Service = service
					c.spans = append(c.spans, s)
				}
			}
		}
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return c
}

// wantName checks the name of nginx's span of a request to host and
// path, once the backend got a traceparent.
func (c *otlpCollector) wantName(t *testing.T, host, path, want string) {
	t.Helper()
	var seen traceSeen
	eventually(t, host+path+" traced", func() error {
		if seen = tracedAt(t, host, path, nil); seen.parentID == "" {
			return fmt.Errorf("the backend saw %+v: no traceparent yet", seen)
		}
		return nil
	})
	if s := c.span(t, seen.parentID); s.Name != want {
		t.Errorf("%s%s: span named %q, want %q", host, path, s.Name, want)
	}
}

// span returns the span of id, once the collector has it.
func (c *otlpCollector) span(t *testing.T, id string) otlpSpan {
	t.Helper()
	var found otlpSpan
	eventually(t, "span "+id+" exported", func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, s := range c.spans {
			if s.SpanID == id {
				found = s
				return nil
			}
		}
		return fmt.Errorf("%d spans, not %s", len(c.spans), id)
	})
	return found
}

func (s otlpSpan) attr(key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			for _, v := range a.Value {
				return fmt.Sprint(v)
			}
		}
	}
	return ""
}

// With a collector, nginx's span of each sampled request is exported as
// OTLP/HTTP JSON: the span the backend's traceparent names as its parent,
// in the client's trace with the client's span as its parent, under
// otel-service-name, with the request's method, target and status; on a
// routed host and a server block alike. With otel-sampler AlwaysOff a new
// trace is not sampled and nothing is exported for it.
func TestTracingSpansExported(t *testing.T) {
	c := startCollector(t)
	host, port, _ := net.SplitHostPort(c.addr)
	ns := namespace(t, "spans")
	newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "routed", nil, hostRule("routed.spans.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "static", needsServerBlock(), hostRule("static.spans.example.com", prefixPath("/", "a"))))
	allowSnippets(t, "enable-opentelemetry", "true", "otlp-collector-host", host, "otlp-collector-port", port,
		"otel-schedule-delay-millis", "200", "otel-service-name", "edge")
	in := map[string]string{"traceparent": incomingTrace}
	for _, h := range []string{"routed.spans.example.com", "static.spans.example.com"} {
		var seen traceSeen
		eventually(t, h+" traced", func() error {
			if seen = tracedBy(t, h, in); seen.parentID == "" || seen.parentID == "00f067aa0ba902b7" {
				return fmt.Errorf("the backend saw %+v: not nginx's span yet", seen)
			}
			return nil
		})
		s := c.span(t, seen.parentID)
		if s.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || s.ParentSpanID != "00f067aa0ba902b7" || s.Service != "edge" ||
			s.Name != "/" || s.attr("http.status_code") != "200" || s.attr("http.host") != h {
			t.Errorf("%s: exported %+v; want nginx's span between the client's and the backend's", h, s)
		}
	}

	allowSnippets(t, "enable-opentelemetry", "true", "otlp-collector-host", host, "otlp-collector-port", port,
		"otel-schedule-delay-millis", "200", "otel-sampler", "AlwaysOff")
	var seen traceSeen
	eventually(t, "AlwaysOff in effect", func() error {
		if seen = tracedBy(t, "routed.spans.example.com", nil); seen.flags != "00" {
			return fmt.Errorf("the backend saw %+v", seen)
		}
		return nil
	})
	// A sampled request after it is exported: the unsampled one before it
	// would have been too.
	s := tracedBy(t, "routed.spans.example.com", in)
	c.span(t, s.parentID)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sp := range c.spans {
		if sp.TraceID == seen.traceID {
			t.Errorf("an unsampled trace was exported: %+v", sp)
		}
	}
}

// opentelemetry-operation-name names nginx's spans, its variables filled
// in per request: the ConfigMap's (ingress-nginx's documented example) on
// a routed host and on an Ingress with only the annotation's
// enable-opentelemetry, the annotation's in place of it beside
// enable-opentelemetry "true"; alone, the annotation is ignored with a
// Warning, as ingress-nginx ignores it, and a variable outside the
// documented set refuses the Ingress. A ConfigMap name with the
// location's labels gets them on a routed host too.
func TestTracingSpanNames(t *testing.T) {
	c := startCollector(t)
	host, port, _ := net.SplitHostPort(c.addr)
	ns := namespace(t, "spannames")
	newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "routed", nil, hostRule("routed.spannames.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "named", map[string]string{ann + "enable-opentelemetry": "true",
		ann + "opentelemetry-operation-name": "${namespace}/${ingress_name} $request_method $location_path $status"},
		hostRule("named.spannames.example.com", prefixPath("/shop", "a"))))
	createIngress(t, newIngress(ns, "ignored", map[string]string{ann + "opentelemetry-operation-name": "ignored"},
		hostRule("ignored.spannames.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "bad", map[string]string{ann + "enable-opentelemetry": "true",
		ann + "opentelemetry-operation-name": "$remote_addr"}, hostRule("bad.spannames.example.com", prefixPath("/", "a"))))
	cm := []string{"enable-opentelemetry", "true", "otlp-collector-host", host, "otlp-collector-port", port,
		"otel-schedule-delay-millis", "200", "opentelemetry-operation-name", "HTTP $request_method $service_name $uri"}
	putConfigMap(t, map[string]string{cm[0]: cm[1], cm[2]: cm[3], cm[4]: cm[5], cm[6]: cm[7], cm[8]: cm[9]})
	c.wantName(t, "routed.spannames.example.com", "/x", "HTTP GET a /x")
	c.wantName(t, "named.spannames.example.com", "/shop/cart", ns+"/named GET /shop 200")
	c.wantName(t, "ignored.spannames.example.com", "/z", "HTTP GET a /z")
	eventWith(t, ns, "ignored", "SpanNameIgnored: metadata.annotations[nginx.ingress.kubernetes.io/opentelemetry-operation-name]")
	eventWith(t, ns, "bad", "InvalidAnnotation: metadata.annotations[nginx.ingress.kubernetes.io/opentelemetry-operation-name]", "IngressRejected")
	if r := get(t, "bad.spannames.example.com", "/"); r.code != 503 {
		t.Errorf("the Ingress with a refused span name: %d %s, want 503", r.code, short(r.body))
	}
	routedInLua(t, "routed.spannames.example.com")

	cm[9] = "$server_name ${namespace}/${ingress_name}$location_path"
	putConfigMap(t, map[string]string{cm[0]: cm[1], cm[2]: cm[3], cm[4]: cm[5], cm[6]: cm[7], cm[8]: cm[9]})
	want := "routed.spannames.example.com " + ns + "/routed/"
	eventually(t, "the new ConfigMap name in effect", func() error {
		seen := tracedAt(t, "routed.spannames.example.com", "/y", nil)
		if seen.parentID == "" {
			return fmt.Errorf("the backend saw %+v: no traceparent", seen)
		}
		if s := c.span(t, seen.parentID); s.Name != want {
			return fmt.Errorf("span named %q, want %q", s.Name, want)
		}
		return nil
	})
	routedInLua(t, "routed.spannames.example.com")
}

// Without opentelemetry-operation-name, nginx's span is named after the
// nginx location that served the request, as ingress-nginx's
// OpenTelemetry module names it: a Prefix path /api is the locations
// "/api/" and "= /api" ("/api/" for /api/x, "/api" for /api), an Exact
// one its path, a path of a regex host "~* ^<path>" ("^<path>"); on a
// routed host (the route's location, from the routes pushed to Lua: a
// new path there needs no reload) and on a server block alike.
func TestTracingSpanLocationNames(t *testing.T) {
	c := startCollector(t)
	host, port, _ := net.SplitHostPort(c.addr)
	ns := namespace(t, "spanloc")
	newApp(t, ns, "a", 1, "")
	paths := func() []networkingv1.HTTPIngressPath {
		return []networkingv1.HTTPIngressPath{prefixPath("/", "a"), prefixPath("/api", "a"),
			pathOf("/exact", networkingv1.PathTypeExact, "a", 80)}
	}
	createIngress(t, newIngress(ns, "routed", nil, hostRule("routed.spanloc.example.com", paths()...)))
	createIngress(t, newIngress(ns, "static", needsServerBlock(), hostRule("static.spanloc.example.com", paths()...)))
	createIngress(t, newIngress(ns, "regex", map[string]string{ann + "use-regex": "true"},
		hostRule("regex.spanloc.example.com", pathOf(`/v[0-9]+/items`, networkingv1.PathTypeImplementationSpecific, "a", 80))))
	createIngress(t, newIngress(ns, "staticregex", needsServerBlock(ann+"use-regex", "true"),
		hostRule("staticregex.spanloc.example.com", pathOf(`/files/.+\.json`, networkingv1.PathTypeImplementationSpecific, "a", 80))))
	allowSnippets(t, "enable-opentelemetry", "true", "otlp-collector-host", host, "otlp-collector-port", port,
		"otel-schedule-delay-millis", "200")
	for _, h := range []string{"routed.spanloc.example.com", "static.spanloc.example.com"} {
		c.wantName(t, h, "/api/x", "/api/")
		c.wantName(t, h, "/api", "/api")
		c.wantName(t, h, "/exact", "/exact")
		c.wantName(t, h, "/other", "/")
	}
	c.wantName(t, "regex.spanloc.example.com", "/v2/items/9", "^/v[0-9]+/items")
	c.wantName(t, "staticregex.spanloc.example.com", "/files/a.json", `^/files/.+\.json`)
	routedInLua(t, "routed.spanloc.example.com", "regex.spanloc.example.com")

	// A new routed host: its spans get its route's location without a
	// reload.
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "more", nil, hostRule("more.spanloc.example.com", prefixPath("/more/", "a"))))
	c.wantName(t, "more.spanloc.example.com", "/more/x", "/more/")
	routedInLua(t, "more.spanloc.example.com")
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("a new routed host reloaded nginx %d times; want 0", after-before)
	}
}
