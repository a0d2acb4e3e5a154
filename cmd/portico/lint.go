package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/portico-ingress/portico/pkg/diagnose"
	"github.com/portico-ingress/portico/pkg/lint"
)

func newLintCommand() *cobra.Command {
	var (
		f          toolFlags
		files      []string
		cluster    bool
		strictRefs bool
	)
	cmd := &cobra.Command{
		Use:   "lint -f FILE|DIR... | --cluster",
		Short: "Check Ingress manifests with the controller's own validation",
		Long: `Decodes Ingresses, IngressClasses, Services, EndpointSlices, Secrets and
ConfigMaps from YAML or JSON files (multi-document, Lists, directories
walked; "-" is stdin) and checks them with the controller's model: invalid
or unsupported annotations, bad hosts and paths, conflicting host/path
pairs, references to missing Services, ports and TLS Secrets, classes that
match no IngressClass. Unsupported annotations and ConfigMap keys are
reported with the reason; partly supported ones get a note saying how
Portico differs from ingress-nginx.

Service and Secret references are checked when the input holds at least
one object of that kind, or always with --strict-refs. Without any
IngressClass in the input, one named --ingress-class for
--controller-class is assumed. With --cluster, the cluster's objects are
read (files given with -f replace objects of the same name) and references
are strict. Exits 1 when a warning or error is found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			if len(files) == 0 && !cluster {
				return errors.New("give -f FILE|DIR or --cluster")
			}
			ns := f.namespace
			var base *lint.Objects
			if cluster {
				client, kns, err := f.client()
				if err != nil {
					return err
				}
				ctx, cancel := f.ctx()
				defer cancel()
				snap, err := diagnose.Gather(ctx, client, diagnose.GatherOptions{Namespace: f.namespace})
				if err != nil {
					return err
				}
				if ns == "" {
					ns = kns
				}
				base = &lint.Objects{Ingresses: snap.Ingresses, IngressClasses: snap.IngressClasses, Services: snap.Services,
					EndpointSlices: snap.EndpointSlices, Secrets: snap.Secrets, ConfigMaps: snap.ConfigMaps}
				if snap.ConfigMap != nil {
					base.ConfigMaps = append(base.ConfigMaps, snap.ConfigMap)
				}
				strictRefs = true
			}
			if ns == "" {
				ns = "default"
			}
			objs, err := lint.Load(files, ns, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if base != nil {
				objs = lint.Overlay(base, objs)
			}
			res := lint.Lint(objs, lint.Options{Model: f.modelOptions(), ConfigMap: f.configMap, StrictRefs: strictRefs, Now: time.Now()})
			out := cmd.OutOrStdout()
			if f.output == "json" {
				err = writeJSON(out, res)
			} else {
				err = lint.Write(out, res, colorFor(out))
			}
			if err != nil {
				return err
			}
			if res.Failed() {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file or directory of manifests; repeatable; - is stdin")
	cmd.Flags().BoolVar(&cluster, "cluster", false, "lint the cluster's objects (with -f: as changed by the files)")
	cmd.Flags().BoolVar(&strictRefs, "strict-refs", false, "report references to Services and Secrets missing from the input even when it holds none")
	f.kube(cmd.Flags())
	f.out(cmd.Flags())
	f.model(cmd.Flags())
	return cmd
}
