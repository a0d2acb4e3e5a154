package model

import (
	"regexp"
	"strings"
)

// FastCGI is what a location with backend-protocol FCGI adds to the
// FastCGI request: fastcgi_index and the parameters of
// fastcgi-params-configmap, after the CGI parameters every FastCGI
// request carries (package plan lists those).
type FastCGI struct {
	Index  string     `json:"index,omitempty"`
	Params []KeyValue `json:"params,omitempty"`
}

// fastCGIValue is ingress-nginx's grammar of a parameter's value: letters,
// digits, -_/. and nginx variables ($name or ${name}).
var fastCGIValue = regexp.MustCompile(`^[A-Za-z0-9\-_${}/.]*$`)

// fastCGIVariable finds the variables of a value: $name or ${name}.
var fastCGIVariable = regexp.MustCompile(`\$(?:\{([a-z_][a-z0-9_]*)\}|([a-z_][a-z0-9_]*))`)

// fastCGIVariables are variables a parameter may name besides those a
// log format may (knownLogVariable): nginx's FastCGI and file ones.
var fastCGIVariables = map[string]bool{"document_root": true, "document_uri": true, "fastcgi_script_name": true,
	"fastcgi_path_info": true, "request_filename": true, "realpath_root": true, "content_type": true,
	"content_length": true, "https": true, "nginx_version": true, "request_body": true}

// maxFastCGIValue bounds a parameter's value.
const maxFastCGIValue = 1024

// checkFastCGIValue returns what is wrong with a FastCGI parameter's
// value, or "": its grammar, and a '$' only for a variable nginx has for
// every request (an unknown one would fail nginx -t).
func checkFastCGIValue(v string) string {
	if len(v) > maxFastCGIValue || !fastCGIValue.MatchString(v) {
		return "want letters, digits, -_/. and nginx variables, at most 1024 characters"
	}
	rest := fastCGIVariable.ReplaceAllStringFunc(v, func(m string) string {
		name := strings.Trim(m, "${}")
		if fastCGIVariables[name] || knownLogVariable(name) {
			return ""
		}
		return m
	})
	if strings.ContainsAny(rest, "${}") {
		return "a '$' must start a variable nginx has for every request ($document_root, $fastcgi_script_name, $request_uri, ...), and braces go only around its name (${name})"
	}
	return ""
}
