package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/portico-ingress/portico/pkg/diagnose"
)

func newConfCommand() *cobra.Command {
	var (
		f         toolFlags
		configDir string
		host      string
	)
	cmd := &cobra.Command{
		Use:   "conf [--host HOST]",
		Short: "Print the running nginx.conf, or the server block(s) for one host",
		Long: `Reads nginx.conf from --config-dir (inside the controller's Pod), or, when
--controller-url is given, fetches it from the controller's read-only
GET /nginx.conf on the healthz port. With --host, prints only the server
block(s) nginx picks for that host.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var conf []byte
			var err error
			if cmd.Flags().Changed("controller-url") {
				ctx, cancel := f.ctx()
				defer cancel()
				conf, err = diagnose.Get(ctx, f.controllerURL, "/nginx.conf")
			} else {
				conf, err = os.ReadFile(filepath.Join(configDir, "nginx.conf"))
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if host == "" {
				_, err = out.Write(conf)
				return err
			}
			blocks := diagnose.ServersFor(diagnose.ServerBlocks(string(conf)), host)
			if len(blocks) == 0 {
				return fmt.Errorf("no server block serves %s", host)
			}
			for _, b := range blocks {
				fmt.Fprintln(out, b.Text)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configDir, "config-dir", "/etc/nginx", "directory holding nginx.conf")
	cmd.Flags().StringVar(&host, "host", "", "print only the server block(s) for this host")
	cmd.Flags().StringVar(&f.controllerURL, "controller-url", "http://127.0.0.1:10254", "fetch nginx.conf from the controller's healthz port instead of --config-dir")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30e9, "request timeout")
	return cmd
}

func newBackendsCommand() *cobra.Command {
	var f toolFlags
	cmd := &cobra.Command{
		Use:   "backends [NAME]",
		Short: "Print the Lua balancer's backends and endpoints",
		Long: `Asks nginx's status port (GET /configuration/backends) what the Lua
balancer holds. NAME filters: a backend name ("namespace/service:port") or
a prefix of one ("namespace/service").`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			ctx, cancel := f.ctx()
			defer cancel()
			l, err := diagnose.FetchLua(ctx, f.luaURL)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				var keep []diagnose.LuaBackend
				for _, b := range l.Backends {
					if b.Name == args[0] || strings.HasPrefix(b.Name, args[0]+":") {
						keep = append(keep, b)
					}
				}
				if len(keep) == 0 {
					return fmt.Errorf("the Lua balancer holds no backend %s", args[0])
				}
				l.Backends = keep
			}
			out := cmd.OutOrStdout()
			if f.output == "json" {
				return writeJSON(out, l)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "BACKEND\tBALANCE\tENDPOINTS\tNOTE")
			for _, b := range l.Backends {
				eps := make([]string, 0, len(b.Endpoints))
				for _, e := range b.Endpoints {
					eps = append(eps, fmt.Sprintf("%s:%d", e.Address, e.Port))
				}
				list := strings.Join(eps, ",")
				if list == "" {
					list = "<none>"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Name, b.LoadBalance, list, b.NoEndpoints)
			}
			return tw.Flush()
		},
	}
	f.out(cmd.Flags())
	cmd.Flags().StringVar(&f.luaURL, "lua-url", "http://127.0.0.1:10246", "nginx's status port")
	return cmd
}
