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

// CORSOrigin is scheme://[*.]host[:port], or "null" (Null).
type CORSOrigin struct {
	// Scheme is lower-case letters: http, https, or another an app
	// sends (tauri, capacitor, ...), as ingress-nginx allows.
	Scheme string `json:"scheme,omitempty"`
	// Wildcard allows exactly one extra leading label.
	Wildcard bool   `json:"wildcard,omitempty"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	// Null is the origin "null" (sandboxed frames, file: pages).
	Null bool `json:"null,omitempty"`
}

// The defaults of ingress-nginx v1.15.
const (
	defaultCORSMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	defaultCORSHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	defaultCORSMaxAge  = 1728000
)

var (
	corsOrigin  = regexp.MustCompile(`^([a-z]{1,32})://(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)(:([0-9]{1,5}))?$`)
	methodToken = regexp.MustCompile(`^[A-Za-z]{1,32}$`)
	headerToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

// splitList splits a comma-separated list, trimming spaces and skipping
// empty items, as ingress-nginx reads it; an item item refuses makes it
// invalid.
func splitList(v string, item func(string) bool) ([]string, bool) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !item(s) {
			return nil, false
		}
		out = append(out, s)
	}
	return out, len(out) > 0 && len(out) <= 64
}

// maxCORSOrigins bounds an origin list.
const maxCORSOrigins = 64

// ParseCORSOrigins parses a cors-allow-origin list as ingress-nginx
// does: "*" (or an empty value) allows every origin; else each
// comma-separated entry is an origin such as https://example.com,
// http://example.com:8080, https://*.example.com, tauri://localhost, or
// null. Empty entries are skipped; so is, with its text in skipped, an
// entry that is none of these (no scheme, a path, a character outside
// the grammar): ingress-nginx skips one without a scheme, and allows
// every origin when one has a character outside its grammar. A "*"
// entry allows every origin.
func ParseCORSOrigins(v string) (any bool, origins []CORSOrigin, skipped []string) {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			continue
		case s == "*":
			return true, nil, skipped
		case s == "null":
			origins = append(origins, CORSOrigin{Null: true})
			continue
		}
		m := corsOrigin.FindStringSubmatch(s)
		o := CORSOrigin{}
		if m != nil {
			o = CORSOrigin{Scheme: m[1], Wildcard: m[2] != "", Host: strings.ToLower(m[3])}
			if m[8] != "" {
				if n, err := strconv.Atoi(m[8]); err == nil && n >= 1 && n <= 65535 {
					o.Port = n
				} else {
					m = nil
				}
			}
		}
		if m == nil || len(origins) == maxCORSOrigins {
			skipped = append(skipped, s)
			continue
		}
		origins = append(origins, o)
	}
	return strings.TrimSpace(v) == "", origins, skipped
}

// originRegex builds the case-insensitive regex (matched with nginx ~*)
// that accepts exactly the given origins; a wildcard is one label. No
// origin: a regex nothing matches.
func originRegex(os []CORSOrigin) string {
	if len(os) == 0 {
		return "^$^"
	}
	alts := make([]string, 0, len(os))
	for _, o := range os {
		if o.Null {
			alts = append(alts, "null")
			continue
		}
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

// parseCORS parses the CORS annotations. As in ingress-nginx, a value
// outside its grammar does not refuse the Ingress: it is reported (a
// Warning) and ingress-nginx's default is used instead; an origin entry
// that is no origin is skipped.
func parseCORS(a Annotations) (*CORS, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	ignored := func(name, v, want, used string) {
		ds = append(ds, diag.Warnf(field(name), "AnnotationValueIgnored",
			"invalid value %s: %s; %s is used instead, as in ingress-nginx", quoteValue(v), want, used))
	}
	on, _, d := parseBool(a, nameEnableCORS)
	if d != nil {
		ignored(nameEnableCORS, a[Prefix+nameEnableCORS], "want true or false", "false (CORS off)")
	}
	c := &CORS{AnyOrigin: true, Methods: defaultCORSMethods, Headers: defaultCORSHeaders, Credentials: true, MaxAge: defaultCORSMaxAge}
	if v, ok := a.lookup(nameCORSOrigin); ok {
		any, os, skipped := ParseCORSOrigins(v)
		for _, s := range skipped {
			ds = append(ds, diag.Warnf(field(nameCORSOrigin), "AnnotationValueIgnored",
				"entry %s is not an origin such as https://example.com, https://*.example.com:8443, tauri://localhost or null; it is skipped, as ingress-nginx skips an entry without a scheme", quoteValue(s)))
		}
		if !any {
			c.AnyOrigin, c.Origins, c.OriginRegex = false, os, originRegex(os)
		}
	}
	list := func(name string, dst *string, tok *regexp.Regexp, star bool, used string) {
		v, ok := a.lookup(name)
		if !ok {
			return
		}
		items, ok := splitList(v, func(s string) bool { return tok.MatchString(s) || star && s == "*" })
		if !ok {
			ignored(name, v, "want a comma-separated list of names made of letters, digits, _ and -", used)
			return
		}
		*dst = strings.Join(items, ", ")
	}
	list(nameCORSMethods, &c.Methods, methodToken, false, "the default "+defaultCORSMethods)
	list(nameCORSHeaders, &c.Headers, headerToken, false, "the default "+defaultCORSHeaders)
	list(nameCORSExposeHeader, &c.ExposeHeaders, headerToken, true, "no list")
	if v, set, d := parseBool(a, nameCORSCredentials); set {
		c.Credentials = v
	} else if d != nil {
		ignored(nameCORSCredentials, a[Prefix+nameCORSCredentials], "want true or false", "true")
	}
	if v, ok := a.lookup(nameCORSMaxAge); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<31-1 {
			ignored(nameCORSMaxAge, v, "want a number of seconds", strconv.Itoa(defaultCORSMaxAge))
		} else {
			c.MaxAge = n
		}
	}
	if !on {
		return nil, ds
	}
	return c, ds
}
