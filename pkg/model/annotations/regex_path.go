package annotations

import (
	"fmt"
	"regexp"
	"strings"
)

// maxRegexPath bounds a regular-expression path.
const maxRegexPath = 1024

// regexChars are the characters a regular-expression path may hold. It
// has no quote, ';', '#', whitespace or control character, so the path
// cannot leave the double-quoted nginx string it is printed in.
var regexChars = regexp.MustCompile(`^/[A-Za-z0-9\-._~/!&()*+,=:@^|?\[\]{}\\$]*$`)

// regexEscapes are the characters that may follow a backslash: classes and
// escaped metacharacters. nginx itself unescapes \", \', \\, \n, \r and \t
// inside quoted strings, so none of those is allowed.
const regexEscapes = `dDwWsSbB.*+?()[]{}|^$/-`

// quantifier is what a '{' must open: {n}, {n,} or {n,m}.
var quantifier = regexp.MustCompile(`^\{[0-9]{1,3}(,[0-9]{0,3})?\}`)

// ParseRegexPath validates an Ingress path used as a regular expression
// (use-regex). It must start with '/', compile as a Go regular expression
// (a sanity check of the syntax PCRE shares), and stay within a grammar
// that is safe in a double-quoted nginx string: no quotes or whitespace;
// '\' only before a class letter or a metacharacter; '$' only as an end
// anchor, last or before ')' or '|' (never the start of a variable name); '{' and '}' only as a quantifier {n},
// {n,} or {n,m}. It returns the number of capture groups.
func ParseRegexPath(p string) (groups int, err error) {
	if len(p) > maxRegexPath {
		return 0, fmt.Errorf("regular expression path is longer than %d characters", maxRegexPath)
	}
	if !regexChars.MatchString(p) {
		return 0, fmt.Errorf("regular expression path %s must start with / and contain only letters, digits and -._~/!&()*+,=:@^|?[]{}\\$", quoteValue(p))
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 >= len(p) || !strings.ContainsRune(regexEscapes, rune(p[i+1])) {
				return 0, fmt.Errorf("regular expression path %s: '\\' must precede one of %s", quoteValue(p), regexEscapes)
			}
			i++
		case '$':
			if i != len(p)-1 && p[i+1] != ')' && p[i+1] != '|' {
				return 0, fmt.Errorf("regular expression path %s: '$' is only allowed as an end anchor: last, or before ')' or '|'", quoteValue(p))
			}
		case '{':
			m := quantifier.FindString(p[i:])
			if m == "" || i == 0 {
				return 0, fmt.Errorf("regular expression path %s: '{' must open a quantifier {n}, {n,} or {n,m}", quoteValue(p))
			}
			i += len(m) - 1
		case '}':
			return 0, fmt.Errorf("regular expression path %s: '}' must close a quantifier", quoteValue(p))
		}
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return 0, fmt.Errorf("regular expression path %s does not compile: %v", quoteValue(p), err)
	}
	return re.NumSubexp(), nil
}
