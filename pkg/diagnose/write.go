package diagnose

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// ANSI colours, used only when the caller says the output is a terminal.
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	dim    = "\x1b[2m"
	reset  = "\x1b[0m"
)

// Mark returns the symbol of a state, coloured when color is set.
func Mark(s State, color bool) string {
	sym, c := "?", ""
	switch s {
	case OK:
		sym, c = "✓", green
	case Warn:
		sym, c = "!", yellow
	case Fail:
		sym, c = "✗", red
	case Skip:
		sym, c = "-", dim
	}
	if !color {
		return sym
	}
	return c + sym + reset
}

// Write prints r for people: one line per hop, details indented, and the
// first broken hop with what to do about it.
func Write(w io.Writer, r Report, color bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "request %s%s\n", r.Host, r.Path)
	for _, h := range r.Hops {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", Mark(h.State, color), h.Name, h.Summary)
		for _, d := range h.Details {
			fmt.Fprintf(tw, "\t\t  %s\n", d)
		}
		if h.State == Warn && h.Fix != "" {
			fmt.Fprintf(tw, "\t\t  → %s\n", h.Fix)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var err error
	if r.OK() {
		_, err = fmt.Fprintf(w, "%s no hop is broken\n", Mark(OK, color))
	} else {
		_, err = fmt.Fprintf(w, "%s broken at %s: %s\n", Mark(Fail, color), r.Broken, r.Fix)
	}
	return err
}
