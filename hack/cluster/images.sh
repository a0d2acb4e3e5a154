#!/usr/bin/env bash
# Builds the images the one-node cluster runs, with buildah and without a
# registry, and writes them as docker archives into OUTDIR (for
# `ctr images import`):
#   portico.tar     docker.io/library/portico:dev, from the Dockerfile as it is
#   echoserver.tar  docker.io/library/portico-echoserver:dev (hack/echoserver)
#   pause.tar       localhost/portico-pause:dev, every pod's sandbox
#                   (hack/cluster/pause)
# The Dockerfile's base images are made here under the names it asks for:
# debian:bookworm-slim is `mmdebstrap --variant=minbase bookworm` with the
# slim image's apt sources and its dpkg excludes (no docs, man pages,
# locales); golang:1.26-bookworm is that plus this
# machine's Go toolchain (its version must match the Dockerfile's tag), CA
# bundle, GOPROXY and GOSUMDB. Each base
# is made once per recipe: its key is a hash of what goes into it.
#
# buildah keeps its images, layers and the Dockerfile's cache mounts (Go's
# module and build caches) in <repo>/.cache/buildah, so a rebuild with
# nothing changed takes seconds. The images' names go to stdout.
set -euo pipefail

if (($# != 1)); then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$out" "$root/.cache/buildah/tmp"
store=$(cd "$root/.cache/buildah" && pwd -P)
# TMPDIR: where buildah keeps RUN --mount=type=cache directories.
bah() {
	TMPDIR=$store/tmp buildah --root "$store/storage" --runroot "$store/run" --storage-driver overlay "$@"
}
# One build at a time per store: worktrees share .cache, and the pruning at
# the end must not take another build's fresh layers.
exec 9>"$store/lock"
flock 9
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# have IMAGE: whether the store holds IMAGE.
have() { bah inspect --type image "$1" >/dev/null 2>&1; }

# key TEXT...: a short hash naming a recipe.
key() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

sources=(
	"deb http://deb.debian.org/debian bookworm main"
	"deb http://deb.debian.org/debian bookworm-updates main"
	"deb http://deb.debian.org/debian-security bookworm-security main"
)
# What the slim image leaves out, in this base and in what is installed on it.
slim=()
for p in doc man groff info lintian linda locale; do
	slim+=("--dpkgopt=path-exclude=/usr/share/$p/*")
done
slim+=("--dpkgopt=path-include=/usr/share/doc/*/copyright" "--dpkgopt=path-include=/usr/share/locale/locale.alias")
debian_key=$(key minbase bookworm "${sources[@]}" "${slim[@]}")
debian=localhost/portico-base/debian:$debian_key
if ! have "$debian"; then
	echo "images: $debian: mmdebstrap --variant=minbase bookworm (a minute or two)" >&2
	mmdebstrap --quiet --variant=minbase --format=tar "${slim[@]}" bookworm "$tmp/debian.tar" "${sources[@]}"
	ctr=$(bah from scratch)
	bah add --quiet "$ctr" "$tmp/debian.tar" / >/dev/null
	bah config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
	bah commit --quiet --rm "$ctr" "$debian" >/dev/null
	rm -f "$tmp/debian.tar"
fi
bah tag "$debian" docker.io/library/debian:bookworm-slim

# The Go stage: the Dockerfile's golang tag must be this machine's Go.
golang_tag=$(sed -n 's/^FROM golang:\([^ ]*\) AS build$/\1/p' "$root/Dockerfile")
go_version=$(go env GOVERSION)
if [[ $go_version != "go${golang_tag%-bookworm}" && $go_version != "go${golang_tag%-bookworm}."* ]]; then
	echo "images: the Dockerfile builds with golang:$golang_tag, this machine has $go_version" >&2
	exit 1
fi
go_env=("GOPROXY=$(go env GOPROXY)" "GOSUMDB=$(go env GOSUMDB)" "GOTOOLCHAIN=local" "GOPATH=/go"
	"PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
# This machine's CA bundle: the Go module proxy may be reached through a
# proxy that only this machine trusts.
cas=/etc/ssl/certs/ca-certificates.crt
golang=localhost/portico-base/golang:$(key "$debian_key" "$go_version" "${go_env[@]}" "$(sha256sum <"$cas")")
if ! have "$golang"; then
	echo "images: $golang: $go_version on bookworm" >&2
	ctr=$(bah from --pull=never "$debian")
	bah copy --quiet "$ctr" "$cas" "$cas" >/dev/null
	bah copy --quiet "$ctr" "$(go env GOROOT)" /usr/local/go >/dev/null
	args=()
	for e in "${go_env[@]}"; do args+=(--env "$e"); done
	bah config "${args[@]}" --workingdir /go "$ctr"
	bah commit --quiet --rm "$ctr" "$golang" >/dev/null
fi
bah tag "$golang" "docker.io/library/golang:$golang_tag"

# The Dockerfile's default VERSION, dev: buildah 1.28 reuses a cached
# layer whatever the build argument.
echo "images: portico:dev from the Dockerfile" >&2
bah bud --quiet --layers --pull=never --network host \
	-t docker.io/library/portico:dev -f "$root/Dockerfile" "$root" >&2

# scratch IMAGE BINARY PACKAGE: an image of one static binary, built here
# from PACKAGE, run as nobody; made again only when the binary changes.
scratch() {
	local image=$1 bin=$2 pkg=$3 ctr keyed
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$tmp/$bin" "$pkg")
	keyed=localhost/portico-build/$bin:$(sha256sum <"$tmp/$bin" | cut -c1-16)
	if ! have "$keyed"; then
		ctr=$(bah from scratch)
		bah copy --quiet "$ctr" "$tmp/$bin" "/$bin" >/dev/null
		bah config --entrypoint "[\"/$bin\"]" --user 65534:65534 "$ctr"
		bah commit --quiet --rm "$ctr" "$keyed" >/dev/null
	fi
	bah tag "$keyed" "$image"
	keep+=("$keyed")
}
keep=("$debian" "$golang")
scratch docker.io/library/portico-echoserver:dev echoserver ./hack/echoserver
scratch localhost/portico-pause:dev pause ./hack/cluster/pause

for pair in portico:docker.io/library/portico:dev echoserver:docker.io/library/portico-echoserver:dev \
	pause:localhost/portico-pause:dev; do
	file=$out/${pair%%:*}.tar image=${pair#*:}
	rm -f "$file"
	bah push --quiet "$image" "docker-archive:$file:$image" >&2
	echo "$image"
done
# What earlier builds left: bases of other recipes, images no longer
# tagged and their layers (the cache of this build's steps stays: its
# images have children).
for image in $(bah images --format '{{.Name}}:{{.Tag}}' | grep -E '^localhost/portico-(base|build)/'); do
	if [[ " ${keep[*]} " != *" $image "* ]]; then bah rmi "$image" >/dev/null 2>&1 || true; fi
done
bah rmi --prune >/dev/null 2>&1 || true
