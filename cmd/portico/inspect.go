package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/diagnose"
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/render"
	"github.com/portico-ingress/portico/pkg/statusport"
)

var errNotPortico = errors.New("no " + render.Header + " header")

func newConfCommand() *cobra.Command {
	var (
		f         toolFlags
		configDir string
		host      string
		stream    bool
		service   string
	)
	cmd := &cobra.Command{
		Use:   "conf [--host HOST | --stream | --service tcp/PORT]",
		Short: "Print the running nginx.conf, or the part of it for one host, the stream context, or one TCP/UDP service",
		Long: `Reads nginx.conf from --config-dir (inside the controller's Pod), or, when
--controller-url is given or --config-dir holds no nginx.conf of Portico's,
fetches it from the controller's read-only GET /nginx.conf on the healthz
port. With --host, prints only the server
block(s) nginx picks for that host; for a host routed by Lua (no server
block of its own) it first prints, as comments, the routes the Lua router
holds for it (GET /configuration/routes on --lua-url); for a host of an
ssl-passthrough Ingress it first prints the passthrough front of the
stream context that sends its TLS connections to the backend. Every
routed host at once, as the server blocks they stand for:
routed-hosts.conf in --config-dir (the controller rewrites it when routes
change).

With --stream, prints the stream context (TCP and UDP services, the TLS
passthrough front). With --service tcp/PORT or udp/PORT, prints the
server block of that TCP or UDP service and, when nginx.conf was read from
--config-dir, the endpoints its peer file lists now (nginx picks one per
session).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var conf []byte
			var err error
			fetch := func() ([]byte, error) {
				ctx, cancel := f.ctx()
				defer cancel()
				return statusport.New(f.controllerURL, f.timeout).Get(ctx, "/nginx.conf")
			}
			if cmd.Flags().Changed("controller-url") {
				conf, err = fetch()
			} else {
				path := filepath.Join(configDir, "nginx.conf")
				conf, err = os.ReadFile(path)
				// Not in the controller's Pod (a laptop, make dev): ask the
				// controller rather than print the distribution's file.
				if err != nil || !bytes.HasPrefix(conf, []byte(render.Header)) {
					var ferr error
					if conf, ferr = fetch(); ferr != nil {
						return fmt.Errorf("%s is not Portico's nginx.conf (%v), and the controller at %s did not answer: %w", path, cmp.Or(err, errNotPortico), f.controllerURL, ferr)
					}
					err = nil
				}
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case stream:
				st := diagnose.StreamContext(string(conf))
				if st == "" {
					return errors.New("nginx.conf has no stream context: no TCP or UDP services, no --enable-ssl-passthrough")
				}
				_, err = fmt.Fprintln(out, st)
				return err
			case service != "":
				return streamService(out, string(conf), service)
			case host == "":
				_, err = out.Write(conf)
				return err
			}
			if pt := diagnose.PassthroughFor(string(conf), host); pt != "" {
				fmt.Fprintf(out, "# TLS connections naming %s on the HTTPS port pass through untouched (ssl-passthrough):\n", host)
				fmt.Fprintf(out, "stream {\n%s\n}\n", pt)
				fmt.Fprintf(out, "# Plain HTTP requests to %s, and TLS without its name, reach the http context:\n", host)
			}
			blocks := diagnose.ServersFor(diagnose.ServerBlocks(string(conf)), host)
			if len(blocks) == 0 {
				return fmt.Errorf("no server block serves %s", host)
			}
			for _, b := range blocks {
				if strings.Contains(b.Text, "portico_router.route(") {
					ctx, cancel := f.ctx()
					luaRoutes(ctx, out, f.luaURL, host)
					cancel()
				}
				fmt.Fprintln(out, b.Text)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configDir, "config-dir", "/etc/nginx", "directory holding nginx.conf")
	cmd.Flags().StringVar(&host, "host", "", "print only the server block(s) for this host")
	cmd.Flags().BoolVar(&stream, "stream", false, "print only the stream context (TCP and UDP services, the TLS passthrough front)")
	cmd.Flags().StringVar(&service, "service", "", "print only the server block of this TCP or UDP service, tcp/PORT or udp/PORT")
	cmd.MarkFlagsMutuallyExclusive("host", "stream", "service")
	cmd.Flags().StringVar(&f.controllerURL, "controller-url", "http://127.0.0.1:10254", "fetch nginx.conf from the controller's healthz port instead of --config-dir")
	cmd.Flags().StringVar(&f.luaURL, "lua-url", "http://127.0.0.1:10246", "nginx's status port, for the routes of hosts the Lua router serves")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "request timeout")
	return cmd
}

// streamService prints the server block of a TCP or UDP service
// (target: tcp/PORT or udp/PORT) and, when the peer file nginx reads is
// on this machine (inside the controller's Pod), the endpoints it lists.
func streamService(out io.Writer, conf, target string) error {
	proto, port, ok := diagnose.ParseStreamTarget(target)
	if !ok {
		return fmt.Errorf("--service %q: want tcp/PORT or udp/PORT", target)
	}
	udp := proto == corev1.ProtocolUDP
	block := diagnose.StreamServerFor(conf, port, udp)
	if block == "" {
		return fmt.Errorf("nginx.conf has no %s service on port %d (portico diagnose %s says why)", proto, port, strings.ToLower(target))
	}
	fmt.Fprintln(out, block)
	file := filepath.Join(diagnose.PeersDir(conf), plan.StreamPeers(proto, port))
	peers, err := os.ReadFile(file)
	switch {
	case err != nil:
		fmt.Fprintf(out, "# The endpoints are in %s inside the controller's Pod (%v).\n", file, err)
	case len(bytes.TrimSpace(peers)) == 0:
		fmt.Fprintf(out, "# %s lists no endpoint: nginx closes the connections.\n", file)
	default:
		fmt.Fprintf(out, "# nginx picks one of these endpoints per session (%s):\n", file)
		for _, l := range strings.Fields(string(peers)) {
			fmt.Fprintf(out, "#   %s\n", l)
		}
	}
	return nil
}

// luaRoutes prints, as comments, the routes the Lua router holds for a
// host that has no server block of its own.
func luaRoutes(ctx context.Context, out io.Writer, luaURL, host string) {
	rt, err := statusport.New(luaURL, time.Minute).Routes(ctx)
	if err != nil {
		fmt.Fprintf(out, "# %s has no server block: the catch-all server below serves it, or hands it to the Lua router.\n", host)
		fmt.Fprintf(out, "# The router's routes could not be read from %s: %v\n", luaURL, err)
		return
	}
	key, _, found := rt.Match(host, "/")
	fmt.Fprintf(out, "# %s has no server block: the catch-all server below hands it to the Lua router.\n", host)
	switch {
	case !found:
		fmt.Fprintln(out, "# The Lua router holds no routes: every request gets 404.")
		return
	case key == "":
		fmt.Fprintf(out, "# The Lua router does not know %s: the rules without a host serve it:\n", host)
	default:
		fmt.Fprintf(out, "# The Lua router's routes for %s (GET %s/configuration/routes):\n", key, luaURL)
	}
	hr := rt.Hosts[key]
	for _, note := range plan.Notes(hr.Terms(rt.HSTS)) {
		fmt.Fprintf(out, "#   %s\n", note)
	}
	for _, r := range hr.Routes {
		what := "404"
		if r.Backend != "" {
			what = "backend " + r.Backend
		}
		if r.Ingress != "" {
			what += fmt.Sprintf(" (Ingress %s, path %s)", r.Ingress, r.IngressPath)
		}
		fmt.Fprintf(out, "#   location %s → %s%s\n", r.LocationMatch(), what, diagnose.RouteNotes(&r))
	}
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
			l, err := statusport.New(f.luaURL, f.timeout).Backends(ctx)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				var keep []plan.Backend
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
