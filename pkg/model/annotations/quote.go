package annotations

import (
	"strconv"
	"unicode/utf8"
)

// maxQuoted caps how much of a user value a diagnostic repeats.
const maxQuoted = 64

// quoteValue renders a user value for a message: Go-quoted, so control and
// non-printable characters are escaped, and truncated.
func quoteValue(v string) string {
	if len(v) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		return strconv.Quote(v[:cut]) + "…"
	}
	return strconv.Quote(v)
}

// quoteName renders an annotation name for a message; names are user input
// too, so anything but a plain name is quoted.
func quoteName(n string) string {
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r >= 'A' && r <= 'Z') {
			return quoteValue(n)
		}
	}
	if len(n) > maxQuoted {
		return quoteValue(n)
	}
	return n
}
