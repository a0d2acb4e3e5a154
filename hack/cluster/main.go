// Command cluster runs the one-node Kubernetes cluster of the e2e suite by
// hand, for make cluster: it builds the images (hack/cluster/images.sh),
// starts the cluster (framework.StartCluster) with them imported, prints
// how to use it and waits; Ctrl-C stops and removes all of it. Needs root.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/portico-ingress/portico/e2e/framework"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("cluster: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() (err error) {
	if os.Geteuid() != 0 {
		return errors.New("needs root: the node runs in a network namespace of its own")
	}
	root, err := framework.RepoRoot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	signal.Ignore(syscall.SIGPIPE)

	out := filepath.Join(root, "_out", "cluster")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	log.Print("building the images")
	start := time.Now()
	images, err := framework.BuildImages(ctx, filepath.Join(out, "images"), nil)
	if err != nil {
		return err
	}
	log.Printf("images built in %v; starting the cluster", time.Since(start).Round(time.Second))
	start = time.Now()
	c, err := framework.StartCluster(ctx, framework.ClusterOptions{Images: images})
	if err != nil {
		return err
	}
	defer func() {
		log.Print("stopping the cluster")
		err = errors.Join(err, c.Stop())
		log.Print("stopped; logs in ", filepath.Join(c.WorkDir(), "logs"))
	}()
	kubeconfig := filepath.Join(out, "kubeconfig")
	b, err := os.ReadFile(c.Kubeconfig())
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, b, 0o600); err != nil {
		return err
	}
	log.Printf("node %s Ready in %v", framework.NodeName, time.Since(start).Round(100*time.Millisecond))
	fmt.Printf(`
The cluster runs until Ctrl-C. In another shell:

  export KUBECONFIG=%[1]s
  alias kubectl=%[2]s
  kubectl apply -f deploy/portico.yaml -f deploy/nodeport.yaml   # the image portico:dev is there
  kubectl -n ingress-nginx rollout status deploy/ingress-nginx-controller
  kubectl exec -n ingress-nginx deploy/ingress-nginx-controller -- cat /etc/nginx/nginx.conf
  curl -H 'Host: app.example.com' http://%[3]s:30080/   # the NodePort
  kubectl get pods -A -o wide                              # Pods are reachable from this machine

Images: %[4]s (portico:dev), portico-echoserver:dev. Logs: %[5]s
`, kubeconfig, c.Kubectl(), c.NodeIP(), filepath.Join(out, "images"), filepath.Join(c.WorkDir(), "logs"))
	<-ctx.Done()
	return nil
}
