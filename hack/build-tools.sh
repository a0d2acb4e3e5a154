#!/usr/bin/env bash
# Builds the pinned etcd and kube-apiserver from hack/tools/go.mod into
# ${PORTICO_TOOLS_DIR:-<repo>/.cache/tools/k8s-<version>-etcd-<version>};
# with "cluster", also what the one-node cluster runs (hack/cluster):
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl,
# at the same k8s.io/kubernetes version (the tool directives of go.mod).
# With "helm", only helm, pinned by hack/tools/helm/go.mod (a module of its
# own, so that helm's dependencies do not move the Kubernetes components'),
# into <repo>/.cache/tools/helm-<version>.
# A binary that is already there is kept. The directory is the last line of
# stdout; build output goes to stderr.
set -euo pipefail

case ${1:-} in
"" | cluster | helm) ;;
*)
	echo "usage: $0 [cluster|helm]" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

tmp=
trap '[[ -z $tmp ]] || rm -f "$tmp"' EXIT

# build NAME PACKAGE [GO BUILD FLAGS...] builds PACKAGE into $dir/NAME via a
# temporary file, so an interrupted build never leaves a truncated binary
# behind.
build() {
	local name=$1 package=$2
	shift 2
	if [[ -x $dir/$name ]]; then
		echo "$name: $dir/$name exists, not rebuilding" >&2
		return
	fi
	echo "$name: building (several minutes on a cold build cache)" >&2
	tmp=$(mktemp "$dir/.$name.XXXXXX")
	go build -trimpath "$@" -o "$tmp" "$package"
	mv -f "$tmp" "$dir/$name"
	tmp=
}

if [[ ${1:-} == helm ]]; then
	cd "$root/hack/tools/helm"
	helm_version=$(go list -m -f '{{.Version}}' helm.sh/helm/v4)
	dir=$root/.cache/tools/helm-$helm_version
	mkdir -p "$dir"
	hv=helm.sh/helm/v4/internal/version
	build helm helm.sh/helm/v4/cmd/helm -ldflags "-X $hv.version=$helm_version -X $hv.gitTreeState=clean"
	echo "$dir"
	exit 0
fi

cd "$root/hack/tools"
k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
dir=${PORTICO_TOOLS_DIR:-$root/.cache/tools/k8s-$k8s_version-etcd-$etcd_version}
mkdir -p "$dir"

# k8s_version is vMAJOR.MINOR.PATCH; kubectl version and discovery report these.
IFS=. read -r major minor _ <<<"${k8s_version#v}"
pkg=k8s.io/component-base/version
k8s_ldflags="-X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"

build etcd ./etcd
build kube-apiserver ./kube-apiserver -ldflags "$k8s_ldflags"
if [[ ${1:-} == cluster ]]; then
	for name in kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
		build "$name" "k8s.io/kubernetes/cmd/$name" -ldflags "$k8s_ldflags"
	done
fi

echo "$dir"
