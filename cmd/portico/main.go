package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// version is set at build time (-X main.version=...).
var version = "dev"

// exitCode ends the program with a status and no message: the command
// has printed its findings.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	root := newRootCommand()
	root.SetArgs(commandArgs(os.Args))
	if err := root.Execute(); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			os.Exit(int(code))
		}
		fmt.Fprintln(os.Stderr, "portico:", err)
		os.Exit(2)
	}
}

// ingress-nginx's image runs its controller as "/nginx-ingress-controller
// ARGS" (the chart's container args, under the image's init) and its
// preStop hook as "/wait-shutdown". Portico's image answers both: as the
// first argument to portico, or as the program's name (a link to portico
// under that name).
var ingressNginxCommands = map[string]string{
	"nginx-ingress-controller": "controller",
	"wait-shutdown":            "wait-shutdown",
}

// commandArgs turns argv into the arguments of the root command.
func commandArgs(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	if sub, ok := ingressNginxCommands[filepath.Base(argv[0])]; ok {
		return append([]string{sub}, argv[1:]...)
	}
	if len(argv) > 1 {
		if name, ok := cutAbsolute(argv[1]); ok {
			if sub, ok := ingressNginxCommands[name]; ok {
				return append([]string{sub}, argv[2:]...)
			}
		}
	}
	return argv[1:]
}

// cutAbsolute returns the name of "/name", the paths of ingress-nginx's
// image.
func cutAbsolute(arg string) (string, bool) {
	if len(arg) < 2 || arg[0] != '/' || filepath.Dir(arg) != "/" {
		return "", false
	}
	return arg[1:], true
}
