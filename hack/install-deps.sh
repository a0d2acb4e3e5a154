#!/usr/bin/env bash
# Installs the Debian packages Portico's tests and make dev need, if any is
# missing. Idempotent; installing needs root. A system nginx or containerd
# service is never left running: Portico runs its own nginx on its own ports,
# and hack/cluster its own containerd.
set -euo pipefail

# "runtime" (the Dockerfile) installs what the controller runs on; "cluster"
# what make cluster needs to build the images (mmdebstrap, buildah) and run
# the one-node cluster (containerd, runc, CNI plugins, iptables for
# kube-proxy); no argument adds both to what tests and make dev use; "bench"
# adds valgrind (BenchmarkDataPlaneInstructions).
runtime=(nginx-light libnginx-mod-http-lua libnginx-mod-stream libnginx-mod-stream-js lua-resty-core lua-cjson ca-certificates libnginx-mod-http-brotli-filter libnginx-mod-http-headers-more-filter libnginx-mod-http-modsecurity modsecurity-crs libnginx-mod-http-geoip2)
cluster=(mmdebstrap buildah containerd runc containernetworking-plugins iptables conntrack)
tests=("${runtime[@]}" iproute2 curl openssl wrk brotli)
case ${1:-all} in
runtime) packages=("${runtime[@]}") ;;
cluster) packages=("${cluster[@]}" iproute2) ;;
all) packages=("${tests[@]}" "${cluster[@]}") ;;
bench) packages=("${tests[@]}" valgrind) ;;
*)
	echo "usage: $0 [runtime|cluster|bench]" >&2
	exit 2
	;;
esac

missing=()
for p in "${packages[@]}"; do
	# sed reads all of dpkg's output: grep -q could make it fail with SIGPIPE.
	if [[ $(dpkg -s "$p" 2>/dev/null | sed -n 's/^Status: //p') != "install ok installed" ]]; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: all packages present" >&2
	exit 0
fi
if ((EUID != 0)); then
	echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

# policy-rc.d exiting 101 tells invoke-rc.d and deb-systemd-invoke not to
# start services from maintainer scripts. Keep one that is already there.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# Should a service have started anyway, stop it and keep it off at boot.
if [[ -d /run/systemd/system ]]; then
	for unit in nginx.service containerd.service; do
		systemctl disable --now "$unit" 2>/dev/null || true
	done
fi
# is_nginx PID: whether PID is an nginx process (the pid file may be stale).
is_nginx() { [[ $(cat "/proc/$1/comm" 2>/dev/null) == nginx ]]; }
if [[ -s /run/nginx.pid ]]; then
	pid=$(</run/nginx.pid)
	if is_nginx "$pid"; then
		kill -QUIT "$pid"
		for _ in $(seq 50); do
			is_nginx "$pid" || break
			sleep 0.1
		done
		if is_nginx "$pid"; then kill -KILL "$pid"; fi
	fi
fi
