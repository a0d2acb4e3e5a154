# Portico controller image: Debian bookworm's nginx with the Lua module,
# Portico's Lua modules from rootfs/, and the static portico binary. Packages
# come from hack/install-deps.sh runtime, the script CI runs (as
# hack/install-deps.sh, a superset), so CI proves these install steps.
# make test builds this file as it is, with buildah, on base images of the
# same names made locally (hack/cluster/images.sh).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY cmd cmd
COPY pkg pkg
COPY templates templates
ARG VERSION=dev
# The cache mounts keep Go's module and build caches from one build to the
# next (BuildKit, buildah).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/portico ./cmd/portico

FROM debian:bookworm-slim
COPY hack/install-deps.sh /usr/local/lib/portico/install-deps.sh
# nginx binds :80 and :443 as user 101 through the file capability
# cap_net_bind_service. The pod grants NET_BIND_SERVICE without privilege
# escalation (deploy/portico.yaml): under no_new_privs an exec keeps a file
# capability only if the caller holds it, so portico, which the container
# starts and which starts nginx, has it too. libcap2-bin (setcap) stays: it
# is a dependency of iproute2, which nginx needs.
RUN bash /usr/local/lib/portico/install-deps.sh runtime \
 && apt-get install -y -q --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/sbin/nginx \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/conf.d /usr/local/lib/portico
COPY rootfs/ /
# Portico writes nginx.conf into /etc/nginx and runs nginx from /etc/nginx/run.
# The binary is installed and given its capability in one step: a setcap of
# its own would copy it into another layer.
RUN --mount=type=bind,from=build,source=/out/portico,target=/tmp/portico \
    install -m 0755 /tmp/portico /usr/bin/portico \
 && setcap cap_net_bind_service=+ep /usr/bin/portico \
 && groupadd --system --gid 101 portico \
 && useradd --system --uid 101 --gid 101 --home-dir /etc/nginx --no-create-home --shell /usr/sbin/nologin portico \
 && install -d -o 101 -g 101 /etc/nginx/run \
 && chown 101:101 /etc/nginx
# ingress-nginx's chart runs its container as "/nginx-ingress-controller
# ARGS" and its preStop hook as /wait-shutdown: portico answers to both.
RUN ln -s /usr/bin/portico /nginx-ingress-controller && ln -s /usr/bin/portico /wait-shutdown
USER 101:101
EXPOSE 80 443 8443 10254
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/portico"]
CMD ["controller"]
