package plan

import (
	"fmt"
	"slices"
)

// ErrorPage is the named location that serves one status a location
// intercepts (custom-http-errors) from the error backend, as
// ingress-nginx's @custom_<backend>_<code>: the location hands the status
// on with "error_page <code> = <name>", so the client gets the error
// backend's answer and status, and the page names the status in X-Code
// itself (nginx's $status is 0 after "="). The error backend is asked for
// "/", with the request in X-Original-URI.
type ErrorPage struct {
	Code int    `json:"code"`
	Name string `json:"name"`
	// Headers are what it sends the error backend; nil where the page is
	// only named (RouterLocation.ErrorPages).
	Headers []Header `json:"headers,omitempty"`
}

// errorPages are the pages of codes, named prefix_<code>, each sending
// the headers of its code.
func errorPages(prefix string, codes []int, headers func(code int) []Header) []ErrorPage {
	out := make([]ErrorPage, 0, len(codes))
	for _, c := range codes {
		p := ErrorPage{Code: c, Name: fmt.Sprintf("%s_%d", prefix, c)}
		if headers != nil {
			p.Headers = headers(c)
		}
		out = append(out, p)
	}
	return out
}

// routeErrorPage names the catch-all server's error page of code
// (Router.ErrorPages), which a router location hands code to.
const routeErrorPage = "@portico_route_error"

// ErrorPages are the error pages l hands its intercepted codes to.
func (l *RouterLocation) ErrorPages() []ErrorPage {
	return errorPages(routeErrorPage, l.ErrorCodes, nil)
}

// ErrorPages are the catch-all server's error pages, one per code a
// router location intercepts, serving the error backend the router names.
func (r *Router) ErrorPages() []ErrorPage {
	return errorPages(routeErrorPage, r.ErrorCodes, func(code int) []Header {
		return r.HTTP.errorPageHeaders(code, "$portico_err_namespace", "$portico_err_ingress", "$portico_err_service", "$portico_err_port")
	})
}

// errorPageHeaders are what the error page of code sends the error
// backend: Portico's (errorHeaders), then X-Code and the others that say
// what failed, whose values (nginx values: variables or quoted strings)
// name the Ingress's namespace and name and the Service and port.
func (h *HTTP) errorPageHeaders(code int, namespace, ingress, service, port string) []Header {
	return h.errorHeaders(Header{"X-Code", fmt.Sprint(code)}, Header{"X-Format", "$http_accept"}, Header{"X-Namespace", namespace},
		Header{"X-Ingress-Name", ingress}, Header{"X-Service-Name", service}, Header{"X-Service-Port", port})
}

// addErrorCodes adds codes to the sorted set have.
func addErrorCodes(have []int, codes []int) []int {
	for _, c := range codes {
		if i, found := slices.BinarySearch(have, c); !found {
			have = slices.Insert(have, i, c)
		}
	}
	return have
}
