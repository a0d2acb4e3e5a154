package e2e

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The e2e twin of pkg/model's TestBadInputIsRefusedAndContained: bad
// values sent through the real API server. Each is either refused by the
// API server itself or reaches Portico, which refuses it with a Warning
// Event naming the field (at most a few Events per object), counts it in
// /metrics, and keeps it out of nginx.conf, while an Ingress created
// alongside all of them is served.
func TestBadInputThroughTheAPI(t *testing.T) {
	ns := namespace(t, "badinput")
	a := newApp(t, ns, "a", 1, "")
	impl, pfx := networkingv1.PathTypeImplementationSpecific, networkingv1.PathTypePrefix
	many := map[string]string{}
	// As many unknown annotations as the API server's 256 KiB limit takes.
	for n := range 5000 {
		many[fmt.Sprintf("%sno-such-%04d", ann, n)] = "x"
	}
	rw := ann + "rewrite-target"
	tests := []struct {
		name        string
		host        string
		path        string
		pathType    networkingv1.PathType
		service     string
		annotations map[string]string
		apiRefuses  bool   // the API server answers 422
		field       string // of Portico's Event, when it does not
		reason      string
		bad         string // never in nginx.conf
	}{
		{name: "unicode host", host: "bücher.example.com", apiRefuses: true},
		{name: "control character in host", host: "a\x00b.example.com", apiRefuses: true},
		{name: "unicode service name", service: "äpi", apiRefuses: true},
		{name: "newline in path", path: "/a\nreturn 299;", pathType: impl, field: "spec.rules[0].http.paths[0]", reason: "InvalidPath", bad: "return 299"},
		{name: "unicode path", path: "/é", field: "spec.rules[0].http.paths[0]", reason: "InvalidPath", bad: "/é"},
		{name: "brace in path", path: "/a}", field: "spec.rules[0].http.paths[0]", reason: "InvalidPath", bad: "/a}"},
		{name: "oversize path", path: "/" + strings.Repeat("p", 5000), field: "spec.rules[0].http.paths[0]", reason: "InvalidPath", bad: strings.Repeat("p", 5000)},
		{name: "control character in annotation", annotations: map[string]string{rw: "/\x1b[2J"}, field: "metadata.annotations[" + rw + "]", reason: "InvalidAnnotation", bad: "\x1b"},
		{name: "unicode in annotation", annotations: map[string]string{rw: "/ünï"}, field: "metadata.annotations[" + rw + "]", reason: "InvalidAnnotation", bad: "ünï"},
		{name: "oversize annotation", annotations: map[string]string{rw: "/" + strings.Repeat("b", 200<<10)}, field: "metadata.annotations[" + rw + "]", reason: "InvalidAnnotation", bad: strings.Repeat("b", 2000)},
		{name: "5,000 unknown annotations", annotations: many, field: "metadata.annotations", reason: "UnsupportedAnnotation", bad: "no-such-"},
	}
	var reached []int
	for i, tc := range tests {
		host := fmt.Sprintf("bad-%d.badinput.example.com", i)
		if tc.host != "" {
			host = tc.host
		}
		p := pathOf(cmp.Or(tc.path, "/"), cmp.Or(tc.pathType, pfx), cmp.Or(tc.service, "a"), 80)
		ing := newIngress(ns, fmt.Sprintf("bad-%d", i), tc.annotations, hostRule(host, p))
		_, err := env.client.NetworkingV1().Ingresses(ns).Create(context.Background(), ing, metav1.CreateOptions{})
		switch {
		case tc.apiRefuses && apierrors.IsInvalid(err):
			continue
		case tc.apiRefuses:
			t.Errorf("%s: the API server took it (err %v); add the case's Portico expectation", tc.name, err)
			continue
		case err != nil:
			t.Errorf("%s: the API server refused it: %v", tc.name, err)
			continue
		}
		name := ing.Name
		t.Cleanup(func() {
			_ = env.client.NetworkingV1().Ingresses(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
		})
		reached = append(reached, i)
	}
	createIngress(t, newIngress(ns, "good", nil, hostRule("good.badinput.example.com", prefixPath("/", "a"))))
	servedBy(t, "good.badinput.example.com", "/", a)

	for _, i := range reached {
		tc := tests[i]
		name := fmt.Sprintf("bad-%d", i)
		eventWith(t, ns, name, tc.reason+": "+tc.field)
		evs, err := warningEvents(ns, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 5 {
			t.Errorf("%s: %d Warning Events; one bad object must not flood Events", tc.name, len(evs))
		}
		for _, e := range evs {
			if strings.ContainsAny(e, "\x00\x1b\n\r") || len(e) > 4096 {
				t.Errorf("%s: Event repeats a raw control character or is %d bytes: %q", tc.name, len(e), short(e))
			}
		}
	}
	conf := runningConf(t)
	for _, i := range reached {
		if tc := tests[i]; strings.Contains(conf, tc.bad) {
			t.Errorf("%s: the refused value is in nginx.conf", tc.name)
		}
	}
	metrics, err := scrape()
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"InvalidPath", "InvalidAnnotation", "UnsupportedAnnotation"} {
		if !strings.Contains(metrics, `reason="`+reason+`"`) {
			t.Errorf("/metrics counts no %s finding", reason)
		}
	}
	// Nothing the bad Ingresses named is served; the good one still is.
	for _, i := range reached {
		if r := get(t, fmt.Sprintf("bad-%d.badinput.example.com", i), "/"); r.code == 200 && tests[i].reason != "UnsupportedAnnotation" {
			t.Errorf("%s: refused Ingress answers 200", tests[i].name)
		}
	}
	servedBy(t, "good.badinput.example.com", "/", a)
}
