package model

import (
	"regexp"
	"strconv"
	"strings"
)

// Compression is how answers are compressed with one method (gzip or
// Brotli), as the ConfigMap's use-gzip and gzip-* keys, or enable-brotli
// and brotli-* keys, set it.
type Compression struct {
	// Level is the compression level: 1-9 for gzip, 0-11 for Brotli.
	Level int `json:"level"`
	// MinLength is the smallest Content-Length compressed, in bytes.
	MinLength int `json:"minLength"`
	// Types are the MIME types compressed besides text/html (always
	// compressed), each type/subtype, or "*" for all; without duplicates.
	Types []string `json:"types"`
	// Disable, for gzip, is a regular expression of the User-Agents not
	// sent compressed answers (nginx's gzip_disable, which also knows
	// "msie6" and "degradation"); "" for none.
	Disable string `json:"disable,omitempty"`
}

// compressionBuild holds the compression keys while they are parsed.
type compressionBuild struct {
	useGzip, enableBrotli bool
	gzip, brotli          Compression
}

// defaultCompressedTypes are ingress-nginx's gzip-types; its brotli-types
// add application/xml+rss to them.
const defaultCompressedTypes = "application/atom+xml application/javascript application/x-javascript application/json " +
	"application/rss+xml application/vnd.ms-fontobject application/x-font-ttf application/x-web-app-manifest+json " +
	"application/xhtml+xml application/xml font/opentype image/svg+xml image/x-icon text/css text/javascript " +
	"text/plain text/x-component"

const defaultBrotliTypes = "application/xml+rss " + defaultCompressedTypes

// defaultCompression is ingress-nginx's: gzip level 1 from 256 bytes,
// Brotli level 4 from 20 bytes; both off.
func defaultCompression() compressionBuild {
	return compressionBuild{
		gzip:   Compression{Level: 1, MinLength: 256, Types: strings.Fields(defaultCompressedTypes)},
		brotli: Compression{Level: 4, MinLength: 20, Types: strings.Fields(defaultBrotliTypes)},
	}
}

// finish gives the Compression in effect of each method turned on.
func (c compressionBuild) finish(g *Global) {
	g.Gzip, g.Brotli = nil, nil
	if c.useGzip {
		gz := c.gzip
		g.Gzip = &gz
	}
	if c.enableBrotli {
		br := c.brotli
		g.Brotli = &br
	}
}

// mimeType is a MIME type/subtype as nginx's *_types take it: RFC 9110
// tokens without the characters nginx.conf reads ('$', quotes, braces,
// ';', '\') or that no registered type uses.
var mimeType = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#&^_.+-]{0,126}$`)

// parseMIMETypes parses a space-separated list of MIME types, or "*";
// duplicates are dropped.
func parseMIMETypes(v string) ([]string, bool) {
	fs := strings.Fields(v)
	if len(fs) == 0 || len(fs) > 256 {
		return nil, false
	}
	if len(fs) == 1 && fs[0] == "*" {
		return fs, true
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		if !mimeType.MatchString(f) {
			return nil, false
		}
		if k := strings.ToLower(f); !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out, true
}

const wantMIMETypes = "a space-separated list of MIME types such as text/css application/json, or *"

// userAgentRegex is what gzip-disable may hold: printable ASCII without
// quotes, and a backslash only before a character it escapes in a regex
// (nginx.conf would read \" and \\ itself).
var userAgentRegex = regexp.MustCompile(`^(?:[ !#-\[\]-~]|\\[^"\\'\x00-\x1f\x7f-\xff])+$`)

// parseGzipDisable parses gzip-disable: "msie6", "degradation", or a
// regular expression matched against User-Agent, without case (nginx's
// PCRE; the check here is Go's syntax, which PCRE accepts too).
func parseGzipDisable(v string) bool {
	if v == "msie6" || v == "degradation" {
		return true
	}
	if len(v) > 1024 || !userAgentRegex.MatchString(v) {
		return false
	}
	_, err := regexp.Compile("(?i)" + v)
	return err == nil
}

// levelOption, minLengthOption and typesOption parse the compression keys.
func levelOption(lo, hi int, field func(*globalBuild) *int) func(string, *globalBuild) string {
	return intOption(lo, hi, "a compression level from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi), field)
}

func minLengthOption(field func(*globalBuild) *int) func(string, *globalBuild) string {
	return intOption(0, 1<<30, "a number of bytes", field)
}

func typesOption(field func(*globalBuild) *[]string) func(string, *globalBuild) string {
	return parsedOption(parseMIMETypes, wantMIMETypes, field)
}
