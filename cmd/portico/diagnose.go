package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/diagnose"
)

func newDiagnoseCommand() *cobra.Command {
	var f toolFlags
	var tcpServices, udpServices string
	cmd := &cobra.Command{
		Use:   "diagnose HOST[/PATH] | -n NAMESPACE ingress/NAME | tcp/PORT | udp/PORT",
		Short: "Walk every hop of a request and name the first broken one",
		Long: `Walks a request through IngressClass, Ingress rule, Service and port,
EndpointSlices (and the Pods of not-ready endpoints with their last probe
failure), TLS certificate, and what the running nginx holds (the
controller's /status and the Lua balancer's backends). Prints one line per
hop and the first broken hop with what to do; exits 1 when a hop is broken.

With ingress/NAME, every host and path of that Ingress is diagnosed.

With tcp/PORT or udp/PORT, a TCP or UDP service of the tcp-services or
udp-services ConfigMap is diagnosed: its entry, Service and port,
EndpointSlices, and what the running controller serves on the port. The
ConfigMaps are those the controller's /status names, else the flags'.

For a host of an ssl-passthrough Ingress, the TLS hop says where its TLS
connections go.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			client, ns, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := f.ctx()
			defer cancel()
			g := diagnose.GatherOptions{WithPods: true, TCPServices: tcpServices, UDPServices: udpServices}
			if f.configMap != "" {
				if g.ConfigMapNamespace, g.ConfigMapName, err = splitRef(f.configMap, "--configmap"); err != nil {
					return err
				}
			}
			for _, ref := range []struct{ flag, v string }{{"--tcp-services-configmap", tcpServices}, {"--udp-services-configmap", udpServices}} {
				if ref.v != "" {
					if _, _, err := splitRef(ref.v, ref.flag); err != nil {
						return err
					}
				}
			}
			ctrl := diagnose.FetchController(ctx, f.controllerURL, f.luaURL)
			if st := ctrl.Status; st != nil {
				g.TCPServices, g.UDPServices = cmp.Or(st.TCPServices, g.TCPServices), cmp.Or(st.UDPServices, g.UDPServices)
			}
			snap, err := diagnose.Gather(ctx, client, g)
			if err != nil {
				return err
			}
			snap.Options, snap.Now, snap.Controller = f.modelOptions(), time.Now(), ctrl
			var reports []diagnose.Report
			if proto, port, ok := diagnose.ParseStreamTarget(args[0]); ok {
				reports = append(reports, diagnose.DiagnoseStream(snap, proto, port))
			} else {
				reqs, err := requests(ctx, snap, ns, args[0])
				if err != nil {
					return err
				}
				for _, r := range reqs {
					reports = append(reports, diagnose.Diagnose(snap, r[0], r[1]))
				}
			}
			broken := false
			for _, rep := range reports {
				broken = broken || !rep.OK()
			}
			out := cmd.OutOrStdout()
			if f.output == "json" {
				if err := writeJSON(out, reports); err != nil {
					return err
				}
			} else {
				for i, rep := range reports {
					if i > 0 {
						fmt.Fprintln(out)
					}
					if err := diagnose.Write(out, rep, colorFor(out)); err != nil {
						return err
					}
				}
			}
			if broken {
				return exitCode(1)
			}
			return nil
		},
	}
	f.kube(cmd.Flags())
	f.out(cmd.Flags())
	f.controller(cmd.Flags())
	f.model(cmd.Flags())
	cmd.Flags().StringVar(&tcpServices, "tcp-services-configmap", "", "the controller's --tcp-services-configmap (when its /status does not say)")
	cmd.Flags().StringVar(&udpServices, "udp-services-configmap", "", "the controller's --udp-services-configmap (when its /status does not say)")
	return cmd
}

// requests turns the argument into (host, path) pairs.
func requests(_ context.Context, snap *diagnose.Snapshot, ns, arg string) ([][2]string, error) {
	if name, ok := strings.CutPrefix(arg, "ingress/"); ok {
		var ing *networkingv1.Ingress
		for _, i := range snap.Ingresses {
			if i.Namespace == ns && i.Name == name {
				ing = i
			}
		}
		if ing == nil {
			return nil, fmt.Errorf("Ingress %s/%s not found", ns, name)
		}
		var out [][2]string
		for _, r := range ing.Spec.Rules {
			host := r.Host
			if strings.HasPrefix(host, "*.") {
				host = "wildcard" + host[1:]
			}
			if r.HTTP == nil {
				out = append(out, [2]string{host, "/"})
				continue
			}
			for _, p := range r.HTTP.Paths {
				out = append(out, [2]string{host, p.Path})
			}
		}
		if len(out) == 0 {
			out = append(out, [2]string{"", "/"})
		}
		return out, nil
	}
	host, path, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "http://"), "https://"), "/")
	if host == "" {
		return nil, fmt.Errorf("%q: want HOST[/PATH] or ingress/NAME", arg)
	}
	return [][2]string{{host, "/" + path}}, nil
}
