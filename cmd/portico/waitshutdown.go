package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/portico-ingress/portico/pkg/controller"
)

func newWaitShutdownCommand() *cobra.Command {
	var (
		configDir string
		timeout   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait-shutdown",
		Short: "Start the graceful shutdown of the running controller and wait until nginx has stopped",
		Long: `Sends the controller that runs with --config-dir SIGTERM, as the kubelet
does, and waits until its nginx has finished its requests and stopped (or
the controller has exited). This is what ingress-nginx's preStop hook
/wait-shutdown does; Portico's image runs it under that name too. Exits 1
when no controller runs there.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := context.Background()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			if err := controller.SignalShutdown(ctx, configDir, 200*time.Millisecond); err != nil {
				cmd.PrintErrln("wait-shutdown:", err)
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configDir, "config-dir", "/etc/nginx", "the controller's --config-dir")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long; 0: wait as long as it takes (the kubelet bounds a preStop hook by the Pod's grace period)")
	return cmd
}
