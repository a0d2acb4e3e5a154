package model

import (
	"net/netip"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Defaults are the ConfigMap's defaults of per-Ingress settings, as in
// ingress-nginx: the value of an annotation an Ingress does not set. Each
// key has the grammar of its annotation.
type Defaults struct {
	// Proxy are proxy settings nginx.conf prints at the http level
	// (server blocks and the router's locations inherit them; a
	// location's own annotations override each one). The timeouts and
	// the body size are Global's own fields.
	Proxy annotations.Proxy `json:"proxy"`
	// SourceRange is whitelist-source-range (Allow) and
	// denylist-source-range (Deny): an Ingress without the allowlist or
	// the denylist annotation gets the ConfigMap's.
	SourceRange annotations.SourceRange `json:"sourceRange,omitzero"`
	// ForceSSLRedirect and ServiceUpstream are the defaults of their
	// annotations.
	ForceSSLRedirect bool `json:"forceSSLRedirect,omitempty"`
	ServiceUpstream  bool `json:"serviceUpstream,omitempty"`
}

// proxyDefaults are the http level's proxy settings when the ConfigMap
// sets none: ingress-nginx's, but buffering (on, nginx's; ingress-nginx
// turns it off).
func proxyDefaults() annotations.Proxy {
	tries := 3
	return annotations.Proxy{Buffering: "on", NextUpstream: []string{"error", "timeout"}, NextUpstreamTries: &tries,
		HTTPVersion: "1.1", Redirect: &annotations.Rewrite{Off: true}}
}

// annotationDefault parses a ConfigMap key with the grammar of annotation
// (the annotation it is the default of) and gives take what it parsed.
func annotationDefault(annotation string, take func(s *annotations.Set, d *Defaults)) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		s, ds := annotations.Parse(annotations.Annotations{annotations.Prefix + annotation: v})
		for _, d := range ds {
			if d.Severity != diag.Error {
				continue
			}
			// "invalid value "...": want ...": the want part.
			if i := strings.LastIndex(d.Message, ": want "); i >= 0 {
				return d.Message[i+len(": want "):]
			}
			return d.Message
		}
		take(&s, &b.g.Defaults)
		return ""
	}
}

// redirectPart parses proxy-redirect-from or -to: off, or one argument
// of proxy_redirect; finishRedirect pairs them.
func redirectPart(field func(b *globalBuild) *string) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		if v != "off" && !annotations.RewriteArgument(v) {
			return "off, or a URL or path without quotes, spaces or $"
		}
		*field(b) = v
		return ""
	}
}

// finishRedirect sets the http level's proxy_redirect from
// proxy-redirect-from and -to, as ingress-nginx prints them: off unless
// both are set and not off ("default" is off too, as for the annotation).
func (b *globalBuild) finishRedirect() {
	from, to := b.redirectFrom, b.redirectTo
	if from != "" && from != "off" && from != "default" && to != "" && to != "off" {
		b.g.Defaults.Proxy.Redirect = &annotations.Rewrite{From: from, To: to}
	}
}

// finishBuffers completes proxy-buffers-number without proxy-buffer-size
// with ingress-nginx's default size (4k), as the annotation does.
func (b *globalBuild) finishBuffers() {
	if p := &b.g.Defaults.Proxy; p.BuffersNumber != 0 && p.BufferSize == "" {
		p.BufferSize = "4k"
	}
}

// withDefaults gives an Ingress's annotations Set the ConfigMap's
// defaults of the annotations it does not set; a are its annotations.
func (g *Global) withDefaults(a map[string]string, set *annotations.Set) {
	d := &g.Defaults
	has := func(name string) bool { _, ok := a[annotations.Prefix+name]; return ok }
	if !has("force-ssl-redirect") {
		set.ForceSSLRedirect = d.ForceSSLRedirect
	}
	if !has("service-upstream") {
		set.ServiceUpstream = d.ServiceUpstream
	}
	sr := &set.Traffic.SourceRange
	if !has("allowlist-source-range") && !has("whitelist-source-range") {
		sr.Allow = d.SourceRange.Allow
	}
	if !has("denylist-source-range") {
		sr.Deny = d.SourceRange.Deny
	}
	// A location that sets one half of proxy_buffers takes the other
	// from the ConfigMap.
	p := &set.Proxy
	if has("proxy-buffer-size") && !has("proxy-buffers-number") {
		p.BuffersNumber = d.Proxy.BuffersNumber
	}
	if has("proxy-buffers-number") && !has("proxy-buffer-size") && d.Proxy.BufferSize != "" {
		p.BufferSize = d.Proxy.BufferSize
	}
}

// sourceRangeDefault parses whitelist-source-range or
// denylist-source-range with the annotations' grammar (the same for both
// lists); empty is none.
func sourceRangeDefault(field func(d *Defaults) *[]netip.Prefix) func(string, *globalBuild) string {
	return func(v string, b *globalBuild) string {
		if strings.TrimSpace(v) == "" {
			*field(&b.g.Defaults) = nil
			return ""
		}
		return annotationDefault("denylist-source-range", func(s *annotations.Set, d *Defaults) {
			*field(d) = s.Traffic.SourceRange.Deny
		})(v, b)
	}
}

// noneIfZero and noneIfOff spell nginx's own default as unset: the http
// level prints nothing for it.
func noneIfZero[T ~int](p *T) *T {
	if p != nil && *p == 0 {
		return nil
	}
	return p
}

func noneIfOff(r *annotations.Rewrite) *annotations.Rewrite {
	if r != nil && r.Off {
		return nil
	}
	return r
}

func noneIfOn(v string) string {
	if v == "on" {
		return ""
	}
	return v
}
