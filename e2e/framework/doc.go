// Package framework runs, on one Linux machine, what Portico's e2e tests,
// make dev and make cluster need around the controller:
//
//   - ControlPlane: etcd and kube-apiserver on loopback, client-certificate
//     authentication and RBAC. There is no controller-manager, scheduler or
//     kubelet, so callers create Pods, their status and EndpointSlices
//     themselves; deleted namespaces stay Terminating; the ServiceAccount
//     admission plugin is off because no default ServiceAccounts get created.
//   - Network and Host: network namespaces on a Linux bridge, addressed from
//     the benchmarking range 198.18.0.0/15 (RFC 2544), standing in for pods.
//   - Echo: hack/echoserver serving inside a Host; DialStreamEcho connects
//     to its stream echo and reads the greeting (StreamConn).
//   - Cluster: a real one-node Kubernetes (the ControlPlane with Nodes,
//     kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
//     containerd with runc and a bridge CNI) in a network namespace of its
//     own, for the controller's image (e2e/incluster, make cluster);
//     BuildImages builds the images it runs (hack/cluster/images.sh).
//   - Helm: the pinned helm (`hack/build-tools.sh helm`).
//   - NewHTTPClient and GetEcho: HTTP that never goes through a proxy, never
//     follows redirects and refuses to connect anywhere but loopback and
//     198.18.0.0/15.
//   - Poll and WaitFor: a test's retries of a check, bounded in time.
//
// Contract:
//   - Network and Host need root and iproute2; the control plane needs the
//     binaries of hack/build-tools.sh, the Cluster those of
//     `hack/build-tools.sh cluster` and the packages of
//     `hack/install-deps.sh cluster`. SkipUnlessRoot skips a test otherwise.
//   - Every child process is killed with SIGKILL when the goroutine's OS
//     thread that started it exits (Pdeathsig). Go only ends threads of
//     goroutines that exit while locked with runtime.LockOSThread, so do not
//     start processes from such goroutines.
//   - Every wait is bounded in time.
//   - Links, namespaces, a Cluster's cgroups and work directory are named
//     "ptc<pid in base 36>-…"; NewNetwork and StartCluster first remove
//     those whose process is gone (CleanupStale), a Cluster's containers,
//     mounts and the kernel settings its kubelet changed included.
package framework
