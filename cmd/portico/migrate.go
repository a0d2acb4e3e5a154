package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/pkg/diagnose"
	"github.com/portico-ingress/portico/pkg/migrate"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// ingressNginxSelector finds the controller of ingress-nginx's chart (and
// of its static manifests).
const ingressNginxSelector = "app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller"

func newMigrateCommand() *cobra.Command {
	var (
		f        toolFlags
		workload string
	)
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Say what changes when Portico replaces the cluster's ingress-nginx",
		Long: `Finds the ingress-nginx controller (a Deployment or DaemonSet labelled
` + ingressNginxSelector + `, or the one --controller
names), reads its container's arguments, its ConfigMap, its TCP and UDP
ConfigMaps and every Ingress of its class, and runs them through Portico's
own flag parsing and model. It prints per object what carries over
unchanged, what behaves differently (and how), and what Portico does not
support. Exits 1 when anything would change behaviour, 2 when it cannot
tell.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			client, _, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := f.ctx()
			defer cancel()
			in, err := readInstallation(ctx, client, f.namespace, workload)
			if err != nil {
				return err
			}
			in.Now = time.Now()
			r := migrate.Analyze(in)
			out := cmd.OutOrStdout()
			if f.output == "json" {
				err = writeJSON(out, r)
			} else {
				err = writeMigrate(out, r)
			}
			if err != nil {
				return err
			}
			if r.Changes() {
				return exitCode(1)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	f.kube(fs)
	f.out(fs)
	fs.StringVar(&workload, "controller", "", "the ingress-nginx controller's Deployment or DaemonSet, namespace/name (default: found by its labels)")
	return cmd
}

// controllerWorkload is the ingress-nginx controller's Pod template owner.
type controllerWorkload struct {
	kind, namespace, name string
	pod                   corev1.PodSpec
}

// findController returns the controller named ns/name, or the one
// workload labelled as ingress-nginx's controller in namespace ("": all).
func findController(ctx context.Context, c kubernetes.Interface, namespace, named string) (*controllerWorkload, error) {
	if named != "" {
		ns, name, ok := splitNamespacedName(named)
		if !ok {
			return nil, fmt.Errorf("--controller=%q: want namespace/name", named)
		}
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return &controllerWorkload{"Deployment", ns, name, d.Spec.Template.Spec}, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		ds, err := c.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("no Deployment or DaemonSet %s: %w", named, err)
		}
		return &controllerWorkload{"DaemonSet", ns, name, ds.Spec.Template.Spec}, nil
	}
	lo := metav1.ListOptions{LabelSelector: ingressNginxSelector}
	var found []*controllerWorkload
	ds, err := c.AppsV1().Deployments(namespace).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("list Deployments: %w", err)
	}
	for _, d := range ds.Items {
		found = append(found, &controllerWorkload{"Deployment", d.Namespace, d.Name, d.Spec.Template.Spec})
	}
	dss, err := c.AppsV1().DaemonSets(namespace).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("list DaemonSets: %w", err)
	}
	for _, d := range dss.Items {
		found = append(found, &controllerWorkload{"DaemonSet", d.Namespace, d.Name, d.Spec.Template.Spec})
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no ingress-nginx controller labelled %s; name it with --controller", ingressNginxSelector)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, w := range found {
		names = append(names, w.kind+" "+w.namespace+"/"+w.name)
	}
	return nil, fmt.Errorf("%d ingress-nginx controllers (%s): choose one with --controller", len(found), strings.Join(names, ", "))
}

// controllerArgs returns the controller container's arguments after the
// program, with $(VAR) expanded from its env as the kubelet does
// (POD_NAMESPACE is the workload's namespace).
func (w *controllerWorkload) controllerArgs() ([]string, error) {
	var c *corev1.Container
	for i := range w.pod.Containers {
		cc := &w.pod.Containers[i]
		if slices.Contains(append(append([]string{}, cc.Command...), cc.Args...), "/nginx-ingress-controller") || (c == nil && cc.Name == "controller") {
			c = cc
		}
	}
	if c == nil {
		return nil, fmt.Errorf("%s %s/%s: no container runs /nginx-ingress-controller", w.kind, w.namespace, w.name)
	}
	argv := append(append([]string{}, c.Command...), c.Args...)
	if i := slices.Index(argv, "/nginx-ingress-controller"); i >= 0 {
		argv = argv[i+1:]
	}
	vars := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace" {
			v = w.namespace
		}
		vars[e.Name] = v
	}
	for i, a := range argv {
		argv[i] = envReference.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := vars[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	return argv, nil
}

var envReference = regexp.MustCompile(`\$\([A-Za-z_][A-Za-z0-9_]*\)`)

// pflagValueError names the flag of a value pflag refused.
var pflagValueError = regexp.MustCompile(`for "-{1,2}([^"]+)" flag`)

// judgeFlags parses ingress-nginx's controller arguments with Portico's
// own controller flags and says what each does under Portico.
func judgeFlags(args []string) ([]migrate.Item, *controllerFlags, *pflag.FlagSet) {
	var items []migrate.Item
	refuse := func(field, value, why string) {
		items = append(items, migrate.Item{Field: field, Value: value, Status: migrate.Unsupported,
			Detail: "Portico refuses to start with it: " + why})
	}
	for {
		f := &controllerFlags{}
		fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.register(fs)
		var kept []string
		for i := 0; i < len(args); i++ {
			a := args[i]
			name, value, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			known := fs.Lookup(name) != nil || (len(a) > 1 && a[0] == '-' && a[1] != '-' && fs.ShorthandLookup(name) != nil)
			if strings.HasPrefix(a, "-") && a != "-" && a != "--" && !known {
				refuse("--"+name, value, "ingress-nginx v1.15 has no such flag")
				continue
			}
			kept = append(kept, a)
		}
		err := fs.Parse(kept)
		if err != nil {
			m := pflagValueError.FindStringSubmatch(err.Error())
			if m == nil {
				refuse("(arguments)", strings.Join(args, " "), err.Error())
				return items, f, fs
			}
			refuse("--"+m[1], "", err.Error())
			args = slices.DeleteFunc(kept, func(a string) bool {
				n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				return strings.HasPrefix(a, "-") && n == m[1]
			})
			continue
		}
		for _, a := range fs.Args() {
			refuse(a, "", "a positional argument (ingress-nginx ignores them; `portico controller` takes none)")
		}
		fs.Visit(func(fl *pflag.Flag) {
			it := migrate.Item{Field: "--" + fl.Name, Value: fl.Value.String(), Status: migrate.Unchanged}
			if why := fl.Annotations[reasonAnnotation]; len(why) == 1 {
				if fl.Value.String() == fl.DefValue {
					it.Detail = "ingress-nginx's default, which is what Portico does"
				} else {
					it.Status, it.Detail = migrate.Unsupported, "no effect in Portico: "+why[0]
				}
			}
			items = append(items, it)
		})
		return items, f, fs
	}
}

// readInstallation reads what migrate.Analyze needs from the cluster.
func readInstallation(ctx context.Context, c kubernetes.Interface, namespace, named string) (migrate.Input, error) {
	w, err := findController(ctx, c, namespace, named)
	if err != nil {
		return migrate.Input{}, err
	}
	args, err := w.controllerArgs()
	if err != nil {
		return migrate.Input{}, err
	}
	items, f, _ := judgeFlags(args)
	in := migrate.Input{
		Controller:          diag.Object{Kind: w.kind, Namespace: w.namespace, Name: w.name},
		Flags:               items,
		DisableExternalName: f.disableExternalName,
		Options: model.Options{IngressClass: f.ingressClass, ControllerClass: f.controllerClass, IngressClassByName: f.ingressClassByName,
			WatchWithoutClass: f.watchWithoutClass, DisableCatchAll: f.disableCatchAll,
			SSLPassthrough: f.sslPassthrough, ReservedPorts: f.reservedPorts()},
	}
	ref := func(v string) (string, string) {
		ns, name, _ := strings.Cut(v, "/")
		return ns, name
	}
	if v := f.defaultBackendService; v != "" {
		ns, name := ref(v)
		in.Options.DefaultBackend = &model.ServiceRef{Namespace: ns, Name: name}
	}
	if v := f.defaultSSLCertificate; v != "" {
		ns, name := ref(v)
		in.Options.DefaultCertificate = &model.SecretRef{Namespace: ns, Name: name}
	}
	cmNS, cmName := ref(f.configMap)
	snap, err := diagnose.Gather(ctx, c, diagnose.GatherOptions{Namespace: f.watchNamespace, ConfigMapNamespace: cmNS, ConfigMapName: cmName, AllSecrets: true})
	if err != nil {
		return migrate.Input{}, err
	}
	in.ConfigMap, in.IngressClasses, in.Services, in.EndpointSlices, in.Secrets = snap.ConfigMap, snap.IngressClasses, snap.Services, snap.EndpointSlices, snap.Secrets
	in.Ingresses, in.ConfigMaps = snap.Ingresses, snap.ConfigMaps
	if f.watchNamespaceSelector != "" {
		if in.Ingresses, err = selectedNamespaces(ctx, c, f.watchNamespaceSelector, in.Ingresses); err != nil {
			return migrate.Input{}, err
		}
	}
	for _, l4 := range []struct{ proto, ref string }{{"TCP", f.tcpServices}, {"UDP", f.udpServices}} {
		if l4.ref == "" {
			continue
		}
		ns, name := ref(l4.ref)
		cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return migrate.Input{}, fmt.Errorf("the %s services ConfigMap %s: %w", l4.proto, l4.ref, err)
		}
		in.Layer4 = append(in.Layer4, migrate.Layer4{Protocol: l4.proto, ConfigMap: cm})
	}
	return in, nil
}

func selectedNamespaces(ctx context.Context, c kubernetes.Interface, selector string, ings []*networkingv1.Ingress) ([]*networkingv1.Ingress, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("--watch-namespace-selector=%q: %w", selector, err)
	}
	nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, errors.New("list Namespaces: " + err.Error())
	}
	in := map[string]bool{}
	for _, ns := range nss.Items {
		in[ns.Name] = true
	}
	return slices.DeleteFunc(ings, func(ing *networkingv1.Ingress) bool { return !in[ing.Namespace] }), nil
}

// writeMigrate prints the report: a line per object, and under an object
// that changes, a line per setting that does.
func writeMigrate(w io.Writer, r migrate.Report) error {
	mark := map[migrate.Status]string{migrate.Unchanged: "✓", migrate.Differs: "~", migrate.Unsupported: "✗"}
	var b strings.Builder
	for _, o := range r.Objects {
		fmt.Fprintf(&b, "%s %-11s %s\n", mark[o.Status], o.Status, o)
		for _, it := range o.Items {
			if it.Status == migrate.Unchanged {
				continue
			}
			field := it.Field
			if it.Value != "" {
				field += "=" + truncateValue(it.Value)
			}
			fmt.Fprintf(&b, "    %s %-11s %s: %s\n", mark[it.Status], it.Status, field, it.Detail)
		}
	}
	fmt.Fprintf(&b, "%d objects: %d unchanged, %d behave differently, %d with unsupported settings\n",
		len(r.Objects), r.Unchanged, r.Differs, r.Unsupported)
	_, err := io.WriteString(w, b.String())
	return err
}

func truncateValue(v string) string {
	if len(v) > 60 {
		return fmt.Sprintf("%q…", v[:60])
	}
	return fmt.Sprintf("%q", v)
}
