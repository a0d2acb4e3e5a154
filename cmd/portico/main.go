// Command portico is the Portico ingress controller and its tools.
package main

import (
	"fmt"
	"os"
)

// version is set at build time (-X main.version=...).
var version = "dev"

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "portico:", err)
		os.Exit(1)
	}
}
