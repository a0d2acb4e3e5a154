// Package annotations parses the nginx.ingress.kubernetes.io/* annotations of
// one Ingress into typed values.
//
// Contract: every supported annotation has one small file holding its typed
// parser and its grammar; a value outside the grammar yields a Warning
// diagnostic naming the annotation and leaves the field at its zero value.
// Parsers never return a raw user string that has not passed a grammar, so
// anything in Set is safe to print into nginx.conf. Names under the prefix
// that are not supported are reported, never silently dropped. The package is
// pure: no I/O, no clocks, no globals that change.
package annotations
