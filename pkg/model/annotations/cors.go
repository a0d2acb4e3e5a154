package annotations

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameEnableCORS       = "enable-cors"
	nameCORSOrigin       = "cors-allow-origin"
	nameCORSMethods      = "cors-allow-methods"
	nameCORSHeaders      = "cors-allow-headers"
	nameCORSCredentials  = "cors-allow-credentials"
	nameCORSMaxAge       = "cors-max-age"
	nameCORSExposeHeader = "cors-expose-headers"
)

// CORS is the cross-origin setup of a location. Every string field passed
// a grammar of letters, digits and a few separators.
type CORS struct {
	// AnyOrigin answers every origin with "*".
	AnyOrigin bool `json:"anyOrigin,omitempty"`
	// Origins are the allowed origins when not AnyOrigin.
	Origins []CORSOrigin `json:"origins,omitempty"`
	// OriginRegex matches exactly the allowed origins; nginx tests the
	// request's Origin header against it. Built from Origins only.
	OriginRegex string `json:"originRegex,omitempty"`
	// Methods and Headers are ", "-joined lists; ExposeHeaders may be "".
	Methods       string `json:"methods"`
	Headers       string `json:"headers"`
	ExposeHeaders string `json:"exposeHeaders,omitempty"`
	Credentials   bool   `json:"credentials"`
	MaxAge        int    `json:"maxAge"`
}

// CORSOrigin is scheme://[*.]host[:port].
type CORSOrigin struct {
	Scheme string `json:"scheme"`
	// Wildcard allows exactly one extra leading label.
	Wildcard bool   `json:"wildcard,omitempty"`
	Host     string `json:"host"`
	Port     int    `json:"port,omitempty"`
}

const (
	defaultCORSMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	defaultCORSHeaders = "DNT, X-CustomHeader, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Authorization"
	defaultCORSMaxAge  = 1728000
)

var (
	corsOrigin  = regexp.MustCompile(`^(https?)://(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)(:([0-9]{1,5}))?$`)
	methodToken = regexp.MustCompile(`^[A-Za-z]{1,32}$`)
	headerToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

// splitList splits a comma-separated list, trimming spaces; empty items
// make it invalid.
func splitList(v string, item func(string) bool) ([]string, bool) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !item(s) {
			return nil, false
		}
		out = append(out, s)
	}
	return out, len(out) > 0 && len(out) <= 64
}

// ParseCORSOrigins parses a cors-allow-origin list: "*" or origins such as
// https://example.com, http://example.com:8080, https://*.example.com.
func ParseCORSOrigins(v string) (any bool, origins []CORSOrigin, ok bool) {
	if strings.TrimSpace(v) == "*" {
		return true, nil, true
	}
	items, ok := splitList(v, func(s string) bool { return corsOrigin.MatchString(s) })
	if !ok {
		return false, nil, false
	}
	for _, s := range items {
		m := corsOrigin.FindStringSubmatch(s)
		o := CORSOrigin{Scheme: m[1], Wildcard: m[2] != "", Host: strings.ToLower(m[3])}
		if m[8] != "" {
			n, err := strconv.Atoi(m[8])
			if err != nil || n < 1 || n > 65535 {
				return false, nil, false
			}
			o.Port = n
		}
		origins = append(origins, o)
	}
	return false, origins, true
}

// originRegex builds the case-insensitive regex (matched with nginx ~*)
// that accepts exactly the given origins; a wildcard is one label.
func originRegex(os []CORSOrigin) string {
	alts := make([]string, 0, len(os))
	for _, o := range os {
		s := o.Scheme + "://"
		if o.Wildcard {
			s += `[a-z0-9-]+\.`
		}
		s += strings.ReplaceAll(o.Host, ".", `\.`)
		if o.Port != 0 {
			s += ":" + strconv.Itoa(o.Port)
		}
		alts = append(alts, s)
	}
	return "^(" + strings.Join(alts, "|") + ")$"
}

func parseCORS(a Annotations) (*CORS, []diag.Diagnostic) {
	on, _, ds := parseBool(a, nameEnableCORS)
	c := &CORS{AnyOrigin: true, Methods: defaultCORSMethods, Headers: defaultCORSHeaders, Credentials: true, MaxAge: defaultCORSMaxAge}
	if v, ok := a.lookup(nameCORSOrigin); ok {
		any, os, ok := ParseCORSOrigins(v)
		if ok {
			c.AnyOrigin, c.Origins = any, os
			if !any {
				c.OriginRegex = originRegex(os)
			}
		} else {
			ds = append(ds, invalid(nameCORSOrigin, v, "want * or a comma-separated list of origins such as https://example.com, http://*.example.com:8080")...)
		}
	}
	list := func(name string, dst *string, tok *regexp.Regexp, star bool) {
		v, ok := a.lookup(name)
		if !ok {
			return
		}
		items, ok := splitList(v, func(s string) bool { return tok.MatchString(s) || star && s == "*" })
		if !ok {
			ds = append(ds, invalid(name, v, "want a comma-separated list of names made of letters, digits, _ and -")...)
			return
		}
		*dst = strings.Join(items, ", ")
	}
	list(nameCORSMethods, &c.Methods, methodToken, false)
	list(nameCORSHeaders, &c.Headers, headerToken, false)
	list(nameCORSExposeHeader, &c.ExposeHeaders, headerToken, true)
	if v, set, d := parseBool(a, nameCORSCredentials); set {
		c.Credentials = v
	} else {
		ds = append(ds, d...)
	}
	if v, ok := a.lookup(nameCORSMaxAge); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<31-1 {
			ds = append(ds, invalid(nameCORSMaxAge, v, "want a number of seconds")...)
		} else {
			c.MaxAge = n
		}
	}
	if !on || diag.HasError(ds) {
		return nil, ds
	}
	return c, ds
}
