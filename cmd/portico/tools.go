package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/portico-ingress/portico/pkg/model"
)

// toolFlags are shared by the troubleshooting commands.
type toolFlags struct {
	kubeconfig, context string
	namespace           string
	output              string
	controllerURL       string
	luaURL              string
	ingressClass        string
	controllerClass     string
	watchWithoutClass   bool
	configMap           string
	timeout             time.Duration
}

func (f *toolFlags) kube(fs *pflag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file; empty: $KUBECONFIG, ~/.kube/config, then in-cluster")
	fs.StringVar(&f.context, "context", "", "kubeconfig context")
	fs.StringVarP(&f.namespace, "namespace", "n", "", "namespace")
}

func (f *toolFlags) out(fs *pflag.FlagSet) {
	fs.StringVarP(&f.output, "output", "o", "text", "text or json")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "bound for all API and controller requests")
}

func (f *toolFlags) controller(fs *pflag.FlagSet) {
	fs.StringVar(&f.controllerURL, "controller-url", "http://127.0.0.1:10254", "the controller's healthz port (/status, /nginx.conf); empty: do not ask")
	fs.StringVar(&f.luaURL, "lua-url", "http://127.0.0.1:10246", "nginx's status port (/configuration/backends); empty: do not ask")
}

func (f *toolFlags) model(fs *pflag.FlagSet) {
	fs.StringVar(&f.ingressClass, "ingress-class", "nginx", "the controller's --ingress-class (when its /status does not say)")
	fs.StringVar(&f.controllerClass, "controller-class", "k8s.io/ingress-nginx", "the controller's --controller-class (when its /status does not say)")
	fs.BoolVar(&f.watchWithoutClass, "watch-ingress-without-class", false, "the controller's --watch-ingress-without-class (when its /status does not say)")
	fs.StringVar(&f.configMap, "configmap", "", "the controller's ConfigMap, namespace/name")
}

func (f *toolFlags) modelOptions() model.Options {
	return model.Options{IngressClass: f.ingressClass, ControllerClass: f.controllerClass, WatchWithoutClass: f.watchWithoutClass}
}

func (f *toolFlags) checkOutput() error {
	if f.output != "text" && f.output != "json" {
		return fmt.Errorf("--output=%q: want text or json", f.output)
	}
	return nil
}

func (f *toolFlags) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), f.timeout)
}

// client builds a clientset the way kubectl finds its configuration; the
// namespace defaults to the kubeconfig context's.
func (f *toolFlags) client() (kubernetes.Interface, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.UserAgent = "portico-tools"
	ns := f.namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	c, err := kubernetes.NewForConfig(cfg)
	return c, ns, err
}

// colorFor reports whether w is a terminal, so colour is wanted.
func colorFor(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func splitRef(s, flag string) (string, string, error) {
	ns, name, ok := splitNamespacedName(s)
	if !ok {
		return "", "", fmt.Errorf("%s=%q: want namespace/name", flag, s)
	}
	return ns, name, nil
}
