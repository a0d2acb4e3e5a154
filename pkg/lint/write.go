package lint

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Write prints r as an aligned table for people, with a summary line.
func Write(w io.Writer, r Result, color bool) error {
	paint := func(s diag.Severity) string {
		if !color {
			return string(s)
		}
		switch s {
		case diag.Error:
			return "\x1b[31m" + string(s) + "\x1b[0m"
		case diag.Warning:
			return "\x1b[33m" + string(s) + "\x1b[0m"
		}
		return string(s)
	}
	if len(r.Diagnostics) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tOBJECT\tFIELD\tREASON\tMESSAGE")
		for _, d := range r.Diagnostics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", paint(d.Severity), d.Object, d.Field, d.Reason, d.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	counts := map[diag.Severity]int{}
	for _, d := range r.Diagnostics {
		counts[d.Severity]++
	}
	_, err := fmt.Fprintf(w, "%d objects checked (%d documents of other kinds skipped): %d errors, %d warnings, %d notes\n",
		r.Objects, r.Skipped, counts[diag.Error], counts[diag.Warning], counts[diag.Info])
	return err
}
