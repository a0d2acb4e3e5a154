package main

import (
	"errors"
	"fmt"
	"os"
)

// version is set at build time (-X main.version=...).
var version = "dev"

// exitCode ends the program with a status and no message: the command
// has printed its findings.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	if err := newRootCommand().Execute(); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			os.Exit(int(code))
		}
		fmt.Fprintln(os.Stderr, "portico:", err)
		os.Exit(2)
	}
}
