package plan

import (
	"regexp"
	"strings"
)

// blockKeys are the keys of an nginx map for the entries of
// block-user-agents or block-referers, each to print between double
// quotes: every entry becomes a regex, an exact one anchored and matched
// ignoring case as nginx's map matches strings (so no key goes into the
// map's hash, whose bucket size bounds the length of a key), and each
// backslash is doubled, since nginx reads \\ in a quoted string as one.
// The model refused double quotes and control characters.
func blockKeys(entries []string) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if !strings.HasPrefix(e, "~") {
			e = "~*^" + regexp.QuoteMeta(e) + "$"
		}
		out = append(out, strings.ReplaceAll(e, `\`, `\\`))
	}
	return out
}
