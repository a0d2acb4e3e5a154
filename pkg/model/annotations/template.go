package annotations

import (
	"regexp"
	"strings"
)

// Template is a value nginx evaluates per request: literal text and nginx
// variables ($name or ${name}) of the request, each a variable
// RequestVariable allows. Its literals hold no quote, backslash or '$', so
// it prints as is between double quotes in nginx.conf, where nginx
// substitutes the variables.
type Template string

// requestVariables are the variables of the request a Template may name;
// requestVariablePrefixes name families of them (request headers,
// cookies, arguments). All of them exist in every request of Portico's
// nginx, so a Template never makes nginx refuse its configuration.
var (
	requestVariables = map[string]bool{}
	// A family alone ("$http_") is not a variable.
	requestVariablePrefixes = []string{"http_", "cookie_", "arg_"}
)

func init() {
	for _, v := range strings.Fields(`remote_addr remote_port remote_user host hostname scheme https
		request_uri uri args query_string request_method server_name server_port server_addr
		server_protocol content_type content_length msec time_iso8601 time_local
		ssl_client_s_dn ssl_client_i_dn ssl_client_verify ssl_client_serial ssl_client_fingerprint
		ssl_client_escaped_cert ssl_server_name ssl_protocol ssl_cipher`) {
		requestVariables[v] = true
	}
}

// RequestVariable reports whether a Template may name variable name
// (without '$'; nginx's names are case-insensitive).
func RequestVariable(name string) bool {
	name = strings.ToLower(name)
	if requestVariables[name] {
		return true
	}
	for _, p := range requestVariablePrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return true
		}
	}
	return false
}

// variableRef is a variable reference at the start of a string: $name or
// ${name}, nginx's two spellings.
var variableRef = regexp.MustCompile(`^\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))`)

// parseTemplate parses v as literal runs that literal matches (one
// character at a time) and variable references. It returns the number of
// variables; bad names a variable RequestVariable refuses, or is "" when
// v is outside the grammar for another reason (ok false either way).
func parseTemplate(v string, literal *regexp.Regexp) (vars int, bad string, ok bool) {
	for i := 0; i < len(v); {
		if v[i] != '$' {
			if !literal.MatchString(v[i : i+1]) {
				return 0, "", false
			}
			i++
			continue
		}
		m := variableRef.FindStringSubmatch(v[i:])
		if m == nil {
			return 0, "", false
		}
		name := m[1] + m[2]
		if !RequestVariable(name) {
			return 0, "$" + name, false
		}
		vars++
		i += len(m[0])
	}
	return vars, "", true
}

// templateWant says what a Template of literals want must look like, and
// names the variable that failed, if one did.
func templateWant(literals, bad string) string {
	w := literals + " and nginx variables of the request ($host, $request_uri, $remote_user, $http_<header>, $cookie_<name>, $arg_<name> and the others docs/annotations.md lists)"
	if bad != "" {
		w += "; " + quoteValue(bad) + " is not one of them"
	}
	return w
}
