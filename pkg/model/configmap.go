package model

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// hsts is the ConfigMap's HSTS settings before they become one header.
type hsts struct {
	on, includeSubdomains, preload bool
	maxAge                         int
}

func (h hsts) header() string {
	if !h.on {
		return ""
	}
	v := "max-age=" + strconv.Itoa(h.maxAge)
	if h.includeSubdomains {
		v += "; includeSubDomains"
	}
	if h.preload {
		v += "; preload"
	}
	return v
}

// globalBuild holds ConfigMap values while they are parsed.
type globalBuild struct {
	g    Global
	hsts hsts
}

func defaults() globalBuild {
	return globalBuild{
		g: Global{
			LoadBalance:     annotations.RoundRobin,
			SSLRedirect:     true,
			SSLProtocols:    []string{"TLSv1.2", "TLSv1.3"},
			LimitReqStatus:  503,
			LimitConnStatus: 503,
			SSLCiphers:      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
		},
		hsts: hsts{on: true, includeSubdomains: true, maxAge: 31536000},
	}
}

// defaultGlobal is what an absent ConfigMap means.
var defaultGlobal = func() Global { b := defaults(); b.g.HSTS = b.hsts.header(); return b.g }()

var (
	sslProtocols = map[string]bool{"TLSv1": true, "TLSv1.1": true, "TLSv1.2": true, "TLSv1.3": true}
	cipherList   = regexp.MustCompile(`^[A-Za-z0-9_+!@=.:-]+$`)
)

// options maps each supported ConfigMap key to its parser. A parser
// returns what the value must look like when it is outside the grammar.
var options = map[string]func(v string, b *globalBuild) (want string){
	"load-balance": func(v string, b *globalBuild) string {
		lb, ok := annotations.ParseLoadBalance(v)
		if !ok {
			return "round_robin or ewma"
		}
		b.g.LoadBalance = lb
		return ""
	},
	"ssl-redirect":            boolOption(func(b *globalBuild) *bool { return &b.g.SSLRedirect }),
	"hsts":                    boolOption(func(b *globalBuild) *bool { return &b.hsts.on }),
	"hsts-include-subdomains": boolOption(func(b *globalBuild) *bool { return &b.hsts.includeSubdomains }),
	"hsts-preload":            boolOption(func(b *globalBuild) *bool { return &b.hsts.preload }),
	"hsts-max-age": func(v string, b *globalBuild) string {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<31-1 {
			return "a number of seconds"
		}
		b.hsts.maxAge = n
		return ""
	},
	"ssl-protocols": func(v string, b *globalBuild) string {
		ps := strings.Fields(v)
		for _, p := range ps {
			if !sslProtocols[p] {
				return "a space-separated list of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"
			}
		}
		if len(ps) == 0 {
			return "at least one protocol"
		}
		b.g.SSLProtocols = ps
		return ""
	},
	// --- traffic policy ---
	"limit-req-status-code":  statusOption(func(b *globalBuild) *int { return &b.g.LimitReqStatus }),
	"limit-conn-status-code": statusOption(func(b *globalBuild) *int { return &b.g.LimitConnStatus }),
	// --- end traffic policy ---
	"ssl-ciphers": func(v string, b *globalBuild) string {
		if len(v) > 1024 || !cipherList.MatchString(v) {
			return "an OpenSSL cipher list such as ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
		}
		b.g.SSLCiphers = v
		return ""
	},
}

func boolOption(field func(*globalBuild) *bool) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		x, err := strconv.ParseBool(v)
		if err != nil {
			return "true or false"
		}
		*field(b) = x
		return ""
	}
}

// statusOption parses an HTTP error status from 400 to 599.
func statusOption(field func(*globalBuild) *int) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		n, err := strconv.Atoi(v)
		if err != nil || n < 400 || n > 599 || len(v) != 3 {
			return "an HTTP status code from 400 to 599"
		}
		*field(b) = n
		return ""
	}
}

// parseConfigMap parses the controller's ConfigMap. A bad value is reported
// and the default is used in its place.
func parseConfigMap(cm *corev1.ConfigMap) (Global, []diag.Diagnostic) {
	b := defaults()
	if cm == nil {
		b.g.HSTS = b.hsts.header()
		return b.g, nil
	}
	obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	var ds []diag.Diagnostic
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field := "data[" + truncate(k) + "]"
		parse, ok := options[k]
		if !ok {
			ds = append(ds, diag.Warnf(field, "UnsupportedOption", "option is not supported by Portico and is ignored"))
			continue
		}
		if want := parse(cm.Data[k], &b); want != "" {
			ds = append(ds, diag.Errorf(field, "InvalidOption", "invalid value %s: want %s; the default is used", quote(cm.Data[k]), want))
		}
	}
	b.g.HSTS = b.hsts.header()
	return b.g, diag.For(obj, ds)
}

func quote(v string) string { return fmt.Sprintf("%q", truncate(v)) }
