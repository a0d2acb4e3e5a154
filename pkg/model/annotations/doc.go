// Package annotations parses the nginx.ingress.kubernetes.io/* annotations of
// one Ingress into typed values.
//
// Contract: the catalog (catalog.go) holds one Entry for every annotation
// name of ingress-nginx v1.15.1: its status (supported, partly, not
// supported), risk level, parser and docs row. Parse, Supported,
// SupportedNames, RiskOf and Policy derive from it, and so do
// docs/annotations.md's tables (go run ./hack/gendocs); there is no second
// list. Every supported annotation has one small file holding its typed
// parser and its grammar; a value outside the grammar yields a diagnostic
// naming the annotation and leaves the field at its zero value. Parsers
// never return a raw user string that has not passed a grammar, so
// anything in Set is safe to print into nginx.conf. Names under the prefix
// that are not supported are reported (with the catalog's reason when it
// has one), never silently dropped. The package is pure: no I/O, no
// clocks, no globals that change.
//
// Adding an annotation: write its parser in a file of its own (or in the
// file of its group) and add its Set field; a new file also gets a case in
// parsers.go, which stores what the parser returns in that field. Then give
// the annotation's catalog entry its status, risk, parser and notes, and
// run make docs.
package annotations
