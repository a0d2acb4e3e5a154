package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// nginxSizeGrammar is an nginx size as its size directives take one
// (ngx_parse_size): digits with an optional k or m; g is an offset's.
var nginxSizeGrammar = regexp.MustCompile(`^[0-9]{1,10}[kKmM]?$`)

// parseNginxSize returns the bytes of an nginx size, ok when v is one.
func parseNginxSize(v string) (int64, bool) {
	if !nginxSizeGrammar.MatchString(v) {
		return 0, false
	}
	return annotations.Size(v).Bytes(), true
}

// sizeOption takes an nginx size from lo to hi bytes into field.
func sizeOption(lo, hi int64, field func(*globalBuild) *string) func(string, *globalBuild) string {
	want := "an nginx size (digits with an optional k or m) from " + bytesText(lo) + " to " + bytesText(hi)
	return func(v string, b *globalBuild) string {
		n, ok := parseNginxSize(v)
		if !ok || n < lo || n > hi {
			return want
		}
		*field(b) = v
		return ""
	}
}

// bytesText writes n bytes as nginx would: 32k, 1m, 512.
func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "m"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// nginxTimeGrammar is an nginx time (ngx_parse_time) without spaces:
// numbers each with a unit (ms, s, m, h, d), or one number of seconds.
var (
	nginxTimeGrammar = regexp.MustCompile(`^(?:[0-9]{1,7}(?:ms|s|m|h|d))+$|^[0-9]{1,7}$`)
	nginxTimePart    = regexp.MustCompile(`([0-9]+)(ms|s|m|h|d)`)
)

var nginxTimeUnits = map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

// parseNginxTime returns the duration of an nginx time such as 10m,
// 1h30m, 500ms or 60 (seconds).
func parseNginxTime(v string) (time.Duration, bool) {
	if !nginxTimeGrammar.MatchString(v) {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, true
	}
	var d time.Duration
	for _, m := range nginxTimePart.FindAllStringSubmatch(v, -1) {
		n, _ := strconv.Atoi(m[1])
		d += time.Duration(n) * nginxTimeUnits[m[2]]
	}
	return d, true
}

// timeOption takes an nginx time from lo to hi into field.
func timeOption(lo, hi time.Duration, field func(*globalBuild) *string) func(string, *globalBuild) string {
	want := fmt.Sprintf("an nginx time (such as 10m, 1h30m or 90s; a bare number is seconds) from %s to %s", durationText(lo), durationText(hi))
	return func(v string, b *globalBuild) string {
		d, ok := parseNginxTime(v)
		if !ok || d < lo || d > hi {
			return want
		}
		*field(b) = v
		return ""
	}
}

// durationText writes d without the zero units time.Duration prints.
func durationText(d time.Duration) string {
	s := d.String()
	s = strings.Replace(s, "m0s", "m", 1)
	return strings.Replace(s, "h0m", "h", 1)
}
