package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// pluginName is the binary name kubectl runs for `kubectl portico`.
const pluginName = "kubectl-portico"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "portico",
		Short:         "Portico: an NGINX ingress controller for Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// As a kubectl plugin, help and usage say "kubectl portico".
	if strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") == pluginName {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl portico"}
	}
	root.AddCommand(newControllerCommand(), &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { cmd.Println(version) },
	})
	root.AddCommand(newDiagnoseCommand(), newConfCommand(), newBackendsCommand(), newLintCommand(), newWaitShutdownCommand(), newMigrateCommand())
	return root
}
