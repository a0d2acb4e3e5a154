// Command pause is the process of every pod sandbox of the one-node cluster
// (hack/cluster): it holds the pod's namespaces, reaps the zombies it
// inherits and exits on SIGTERM or SIGINT. It replaces the upstream pause
// image, which needs a registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
