// Package templates holds the text/template sources Portico renders.
//
// Contract: templates only range over, test and print fields of the model
// and of render.Options; every printed value was validated by the model, so
// templates never escape, compute or decide anything.
package templates

import "embed"

// FS holds every template; nginx.tmpl is the root.
//
//go:embed *.tmpl
var FS embed.FS
