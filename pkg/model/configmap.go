package model

import (
	"fmt"
	"net/netip"
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
	// secrets are what keys naming a Secret read (ssl-dh-param);
	// localAddrs, when not nil, the host's addresses (bind-address).
	secrets    map[SecretRef]*corev1.Secret
	localAddrs []netip.Addr
	// export is the span export the otel keys describe; Global has it
	// when a collector host is set (finish).
	export SpanExport
	// Inputs of Global.RealIP and Global.AppendForwardedFor.
	enableRealIP, computeFullForwardedFor bool
	realIPFrom                            []string
	disableAccessLog                      bool
	// auth becomes Global.Auth (globalauth.go).
	auth        globalAuthBuild
	compression compressionBuild
	logging     loggingBuild
	// warnings are about how keys combine, found by finish, and the
	// headers left out of the ConfigMaps of add-headers and
	// proxy-set-headers.
	warnings []diag.Diagnostic
	// configMaps are the ConfigMaps the ConfigMap names, by
	// namespace/name.
	configMaps map[string]*corev1.ConfigMap
	// forwardedForHeader is real_ip_header's with X-Forwarded-For trust.
	forwardedForHeader string
	// Inputs of Defaults.Proxy.Redirect.
	redirectFrom, redirectTo string
}

func defaults() globalBuild {
	return globalBuild{
		g: Global{
			LoadBalance:       annotations.RoundRobin,
			SSLRedirect:       true,
			DynamicRouting:    true,
			GenerateRequestID: true,
			SSLProtocols:      []string{"TLSv1.2", "TLSv1.3"},
			LimitReqStatus:    503,
			LimitConnStatus:   503,
			RiskLevel:         annotations.RiskHigh,
			SSLCiphers:        defaultSSLCiphers,
			TLS:               defaultTLSSettings(),
			Client:            defaultClientLimits(),
			Listen:            defaultListenSettings(),
			Workers:           defaultWorkerSettings(),
			Stream:            defaultStreamOptions(),
			Hashes:            defaultHashSizes(),
			Tracing:           Tracing{TrustIncoming: true, Sampler: "AlwaysOn", Ratio: 0.01, ParentBased: true},
		},
		hsts:               hsts{on: true, includeSubdomains: true, maxAge: 31536000},
		compression:        defaultCompression(),
		logging:            defaultLogging(),
		forwardedForHeader: "X-Forwarded-For",
		export:             SpanExport{Port: 4318, Service: "nginx", DelayMillis: 5000, Batch: 512, Queue: 2048},
	}.withProxyDefaults()
}

// withProxyDefaults sets the defaults of the proxy, logging and process
// options.
func (b globalBuild) withProxyDefaults() globalBuild {
	b.g.ProxyBodySize = "1m"
	b.g.ProxyConnectTimeout, b.g.ProxyReadTimeout, b.g.ProxySendTimeout = 5, 60, 60
	b.g.WorkerProcesses = "auto"
	b.g.LogFormat = defaultLogFormat
	b.g.UpstreamKeepaliveConnections, b.g.UpstreamKeepaliveTimeout, b.g.UpstreamKeepaliveRequests = 320, 60, 10000
	b.g.UpstreamKeepaliveTime = "1h"
	b.g.LimitConnZoneVariable = "$binary_remote_addr"
	b.realIPFrom = []string{"0.0.0.0/0"}
	b.g.NoAuthLocations = defaultNoAuthLocations
	b.g.Defaults.Proxy = proxyDefaults()
	b.g.Policy.StrictPathType = true
	return b
}

// finish derives the Global fields that depend on several options.
func (b *globalBuild) finish() {
	b.g.HSTS = b.hsts.header()
	b.g.AppendForwardedFor = b.computeFullForwardedFor && b.g.UseForwardedHeaders
	b.g.AccessLog = !b.disableAccessLog
	b.auth.finish(&b.g)
	b.compression.finish(&b.g)
	if b.logging.finish(&b.g) {
		b.warnings = append(b.warnings, diag.Warnf("data[enable-syslog]", "SyslogWithoutHost",
			"enable-syslog is on but syslog-host is not set; the logs stay where access-log-path and error-log-path say"))
	}
	b.finishRedirect()
	b.finishBuffers()
	b.g.TrustedProxies = b.realIPFrom
	if b.export.Host != "" {
		e := b.export
		b.g.Tracing.Export = &e
	}
	switch {
	case b.g.UseProxyProtocol:
		b.g.RealIP = &RealIP{Header: "proxy_protocol", From: b.realIPFrom}
	case b.g.UseForwardedHeaders || b.enableRealIP:
		b.g.RealIP = &RealIP{Header: b.forwardedForHeader, From: b.realIPFrom}
	}
}

// defaultGlobal is what an absent ConfigMap means.
var defaultGlobal = func() Global { b := defaults(); b.finish(); return b.g }()

// defaultSSLCiphers is ingress-nginx's default: ECDHE, then the two DHE
// ciphers, which nginx offers only with DH parameters (ssl-dh-param).
const defaultSSLCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" +
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256"

var (
	sslProtocols = map[string]bool{"TLSv1": true, "TLSv1.1": true, "TLSv1.2": true, "TLSv1.3": true}
	cipherList   = regexp.MustCompile(`^[A-Za-z0-9_+!@=.:-]+$`)
)

// sizeValue is an nginx size: digits and an optional unit.
var sizeValue = regexp.MustCompile(`^[0-9]{1,9}[kKmMgG]?$`)

func intOption(lo, hi int, want string, field func(*globalBuild) *int) func(string, *globalBuild) string {
	return parsedOption(func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}, want, field)
}

// secondsOption takes a number of seconds, with or without an "s" suffix.
func secondsOption(lo, hi int, field func(*globalBuild) *int) func(string, *globalBuild) string {
	want := fmt.Sprintf("a number of seconds from %d to %d", lo, hi)
	return func(v string, b *globalBuild) string {
		return intOption(lo, hi, want, field)(strings.TrimSuffix(v, "s"), b)
	}
}

// parsedOption takes what parse makes of a value into field; a value it
// refuses is reported with want, what a value must be.
func parsedOption[T any](parse func(string) (T, bool), want string, field func(*globalBuild) *T) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		x, ok := parse(v)
		if !ok {
			return want
		}
		*field(b) = x
		return ""
	}
}

// validOption takes a value valid accepts into field as it is.
func validOption(valid func(string) bool, want string, field func(*globalBuild) *string) func(string, *globalBuild) string {
	return parsedOption(func(v string) (string, bool) { return v, valid(v) }, want, field)
}

func boolOption(field func(*globalBuild) *bool) func(string, *globalBuild) string {
	return parsedOption(func(v string) (bool, bool) {
		x, err := strconv.ParseBool(v)
		return x, err == nil
	}, "true or false", field)
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

// configRefs are what ConfigMap values refer to besides the ConfigMap:
// the Secrets (ssl-dh-param), the ConfigMaps (add-headers,
// proxy-set-headers) by namespace/name, and the host's addresses (bind-address; nil
// when unknown: not checked).
type configRefs struct {
	secrets    map[SecretRef]*corev1.Secret
	localAddrs []netip.Addr
	configMaps map[string]*corev1.ConfigMap
}

// parseConfigMapKeeping parses the controller's ConfigMap. A bad value is
// reported, and the key keeps its value from lastGood if it has one there
// (and it is still good: a Secret it names may have gone), else its
// default. It returns the values in effect per key.
func parseConfigMapKeeping(cm *corev1.ConfigMap, lastGood map[string]string, refs configRefs) (Global, map[string]string, []diag.Diagnostic) {
	b := defaults()
	b.secrets, b.localAddrs, b.configMaps = refs.secrets, refs.localAddrs, refs.configMaps
	if cm == nil {
		b.finish()
		return b.g, nil, nil
	}
	inEffect := map[string]string{}
	obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	var ds []diag.Diagnostic
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field := "data[" + truncate(k) + "]"
		key, ok := keysByName[k]
		if !ok || !key.Supported() {
			why := ""
			if ok {
				why = ": " + key.Differs
			}
			ds = append(ds, diag.Warnf(field, "UnsupportedOption", "option is not supported by Portico and is ignored%s", why))
			continue
		}
		parse := key.parse
		v := cm.Data[k]
		want := parse(v, &b)
		if want == "" {
			inEffect[k] = v
			continue
		}
		// A last good value parsed before; parsing it again restores it.
		if prev, ok := lastGood[k]; ok && parse(prev, &b) == "" {
			inEffect[k] = prev
			ds = append(ds, diag.Errorf(field, "InvalidOption", "invalid value %s: want %s; the last good value %s is kept", quote(v), want, quote(prev)))
			continue
		}
		ds = append(ds, diag.Errorf(field, "InvalidOption", "invalid value %s: want %s; the default is used", quote(v), want))
	}
	b.finish()
	ds = append(ds, b.warnings...)
	if len(inEffect) == 0 {
		inEffect = nil
	}
	return b.g, inEffect, diag.For(obj, ds)
}

func quote(v string) string { return fmt.Sprintf("%q", truncate(v)) }
