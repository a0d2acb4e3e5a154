package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Each header key: valid values and what they set, and values outside
// its grammar.
func TestConfigMapHeaderKeys(t *testing.T) {
	testKeyValues(t, []keyValues{
		{key: "hide-headers", good: map[string]func(*Global){
			"X-Powered-By, server,X-Powered-By": func(g *Global) { g.Headers.Hide = []string{"X-Powered-By", "server"} },
		}, bad: []string{"", ",", "X Powered", "X-A;", "X-A: b", `"X"`}},
		{key: "allow-backend-server-header", good: map[string]func(*Global){"true": func(g *Global) { g.Headers.BackendServer = true }},
			bad: []string{"yes"}},
		{key: "proxy-add-original-uri-header", good: map[string]func(*Global){"true": func(g *Global) { g.Headers.OriginalURI = true }},
			bad: []string{"on"}},
		{key: "forwarded-for-header", good: map[string]func(*Global){"CF-Connecting-IP": func(*Global) {}, "X-Forwarded-For": func(*Global) {}},
			bad: []string{"", "CF Connecting", "proxy_protocol", "X;"}},
		// A reference whose ConfigMap does not exist: a warning (below).
		{key: "add-headers", good: map[string]func(*Global){}, bad: []string{"headers", "ns/", "/x", "NS/x", "ns/x/y", "ns/x y"}},
		{key: "proxy-set-headers", bad: []string{"ingress-nginx"}},
	})
	// forwarded-for-header names the header trusted with use-forwarded-headers.
	g, _, _ := parseConfigMapKeeping(configMap(map[string]string{"forwarded-for-header": "CF-Connecting-IP", "enable-real-ip": "true"}), nil, configRefs{})
	if g.RealIP == nil || g.RealIP.Header != "CF-Connecting-IP" {
		t.Errorf("RealIP %+v, want CF-Connecting-IP", g.RealIP)
	}
}

// add-headers and proxy-set-headers read the ConfigMaps they name: each
// header that parses applies, the others are warnings; a ConfigMap that
// does not exist is a warning too.
func TestConfigMapHeaderMaps(t *testing.T) {
	named := []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "response"}, Data: map[string]string{
			"X-Frame-Options": "DENY", "Clear-Site-Data": `"cache"`, "X-Served-By": "$hostname ${server_port}",
			"Content-Length": "0", "X-Bad": "$nosuch", "X-Slash": `a\b`, "bad name": "x"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "request"}, Data: map[string]string{
			"X-Using-Portico": "true", "X-Forwarded-Proto": "https", "X-Empty": "", "Host": "evil.example.com"}},
	}
	refs := configRefs{configMaps: map[string]*corev1.ConfigMap{}}
	for _, c := range named {
		refs.configMaps[c.Namespace+"/"+c.Name] = c
	}
	cm := configMap(map[string]string{"add-headers": "ingress-nginx/response", "proxy-set-headers": "apps/request"})
	g, inEffect, ds := parseConfigMapKeeping(cm, nil, refs)
	wantResponse := []Header{{Name: "Clear-Site-Data", Value: `"cache"`}, {Name: "X-Frame-Options", Value: "DENY"},
		{Name: "X-Served-By", Value: "$hostname ${server_port}"}}
	if diff := cmp.Diff(wantResponse, g.Headers.Response); diff != "" {
		t.Errorf("response headers (-want +got):\n%s", diff)
	}
	wantRequest := []Header{{Name: "X-Empty"}, {Name: "X-Forwarded-Proto", Value: "https"}, {Name: "X-Using-Portico", Value: "true"}}
	if diff := cmp.Diff(wantRequest, g.Headers.Request); diff != "" {
		t.Errorf("request headers (-want +got):\n%s", diff)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Field+" "+d.Reason+" "+strings.SplitN(d.Message, " is left out", 2)[0])
	}
	want := []string{
		`data[add-headers] InvalidHeader ConfigMap ingress-nginx/response: data[Content-Length] "0"`,
		`data[add-headers] InvalidHeader ConfigMap ingress-nginx/response: data[X-Bad] "$nosuch"`,
		`data[add-headers] InvalidHeader ConfigMap ingress-nginx/response: data[X-Slash] "a\\b"`,
		`data[add-headers] InvalidHeader ConfigMap ingress-nginx/response: data[bad name] "x"`,
		`data[proxy-set-headers] InvalidHeader ConfigMap apps/request: data[Host] "evil.example.com"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if inEffect["add-headers"] != "ingress-nginx/response" {
		t.Errorf("in effect %v", inEffect)
	}
	g, _, ds = parseConfigMapKeeping(configMap(map[string]string{"add-headers": "ingress-nginx/missing"}), nil, refs)
	if len(g.Headers.Response) != 0 || len(ds) != 1 || ds[0].Reason != "ConfigMapNotFound" {
		t.Errorf("missing ConfigMap: headers %v, diagnostics %v", g.Headers.Response, ds)
	}
	if refs := ReferencedConfigMaps(cm); !cmp.Equal(refs, []string{"apps/request", "ingress-nginx/response"}) {
		t.Errorf("ReferencedConfigMaps %v", refs)
	}
}
