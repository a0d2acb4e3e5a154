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
	// Inputs of Global.RealIP and Global.AppendForwardedFor.
	enableRealIP, computeFullForwardedFor bool
	realIPFrom                            []string
	disableAccessLog                      bool
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
			Hashes:            defaultHashSizes(),
		},
		hsts: hsts{on: true, includeSubdomains: true, maxAge: 31536000},
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
	return b
}

// finish derives the Global fields that depend on several options.
func (b *globalBuild) finish() {
	b.g.HSTS = b.hsts.header()
	b.g.AppendForwardedFor = b.computeFullForwardedFor && b.g.UseForwardedHeaders
	b.g.AccessLog = !b.disableAccessLog
	switch {
	case b.g.UseProxyProtocol:
		b.g.RealIP = &RealIP{Header: "proxy_protocol", From: b.realIPFrom}
	case b.g.UseForwardedHeaders || b.enableRealIP:
		b.g.RealIP = &RealIP{Header: "X-Forwarded-For", From: b.realIPFrom}
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
	return func(v string, b *globalBuild) string {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return want
		}
		*field(b) = n
		return ""
	}
}

// secondsOption takes a number of seconds, with or without an "s" suffix.
func secondsOption(lo, hi int, field func(*globalBuild) *int) func(string, *globalBuild) string {
	want := fmt.Sprintf("a number of seconds from %d to %d", lo, hi)
	return func(v string, b *globalBuild) string {
		return intOption(lo, hi, want, field)(strings.TrimSuffix(v, "s"), b)
	}
}

// defaultLogFormat is the access log format when log-format-upstream is unset.
const defaultLogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent ` +
	`"$http_referer" "$http_user_agent" $request_length $request_time ` +
	`[$portico_backend] $upstream_addr $upstream_status $upstream_response_time`

const maxLogFormat = 2048

// logLiteral is what a log format may hold besides variables: printable
// ASCII without quotes, backslash, braces, semicolon and '$'.
var logLiteral = regexp.MustCompile(`^[A-Za-z0-9 !#%&()*+,\-./:<=>?@\[\]^_|~]*$`)

// logVariables are the nginx variables a log format may use; logVariablePrefixes
// name families of them (request and response headers, cookies, arguments).
var (
	logVariables        = map[string]bool{}
	logVariablePrefixes = []string{"http_", "sent_http_", "upstream_http_", "cookie_", "arg_"}
)

func init() {
	for _, v := range strings.Fields(`remote_addr remote_port remote_user realip_remote_addr
		time_local time_iso8601 msec request request_method request_uri uri args query_string
		request_length request_time request_id status body_bytes_sent bytes_sent server_protocol
		scheme host hostname server_name server_addr server_port connection connection_requests
		pid pipe proxy_protocol_addr proxy_protocol_port ssl_protocol ssl_cipher ssl_server_name
		upstream_addr upstream_status upstream_response_time upstream_connect_time
		upstream_header_time upstream_response_length upstream_bytes_received upstream_bytes_sent
		proxy_add_x_forwarded_for portico_backend portico_ingress portico_server portico_path`) {
		logVariables[v] = true
	}
}

// logVariableName is a variable name after '$'.
var logVariableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*`)

// checkLogFormat returns what a log format must look like, or "" when v is one.
func checkLogFormat(v string) string {
	const want = "nginx variables ($name) and letters, digits, spaces and !#%&()*+,-./:<=>?@[]^_|~ (no quotes, backslashes, braces or semicolons)"
	if v == "" || len(v) > maxLogFormat {
		return fmt.Sprintf("a non-empty format of at most %d characters", maxLogFormat)
	}
	rest := v
	for rest != "" {
		lit, after, found := strings.Cut(rest, "$")
		if !logLiteral.MatchString(lit) {
			return want
		}
		if !found {
			break
		}
		name := logVariableName.FindString(after)
		if !knownLogVariable(name) {
			return fmt.Sprintf("%s; $%s is not a variable Portico allows in logs", want, truncate(after[:len(name)]))
		}
		rest = after[len(name):]
	}
	return ""
}

func knownLogVariable(name string) bool {
	if logVariables[name] {
		return true
	}
	for _, p := range logVariablePrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return true
		}
	}
	return false
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

// configRefs are what ConfigMap values refer to besides the ConfigMap:
// the Secrets (ssl-dh-param), and the host's addresses (bind-address; nil
// when unknown: not checked).
type configRefs struct {
	secrets    map[SecretRef]*corev1.Secret
	localAddrs []netip.Addr
}

// parseConfigMapKeeping parses the controller's ConfigMap. A bad value is
// reported, and the key keeps its value from lastGood if it has one there
// (and it is still good: a Secret it names may have gone), else its
// default. It returns the values in effect per key.
func parseConfigMapKeeping(cm *corev1.ConfigMap, lastGood map[string]string, refs configRefs) (Global, map[string]string, []diag.Diagnostic) {
	b := defaults()
	b.secrets, b.localAddrs = refs.secrets, refs.localAddrs
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
	if len(inEffect) == 0 {
		inEffect = nil
	}
	return b.g, inEffect, diag.For(obj, ds)
}

func quote(v string) string { return fmt.Sprintf("%q", truncate(v)) }
