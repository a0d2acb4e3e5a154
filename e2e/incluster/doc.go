// Package incluster runs Portico the way users do: the controller image,
// built from the Dockerfile, on a real one-node cluster
// (framework.StartCluster: kube-apiserver, kube-controller-manager,
// kube-scheduler, kubelet, kube-proxy, containerd), installed with
// `kubectl apply -f deploy/portico.yaml`, in front of the seed apps as
// Pods of the echo server image. Tests assert what users see: Pods Ready,
// kubectl exec, answers through the NodePort and each replica, rolling
// updates and a deleted leader without a failed request, the validating
// webhook at kubectl apply, probes; and Portico's Helm chart installed and
// upgraded with helm beside it.
//
// It needs root and runs with `make incluster` (part of `make test`).
package incluster
