# Portico controller image: Debian bookworm's nginx with the Lua module,
# Portico's Lua modules from rootfs/, and the static portico binary. Packages
# come from hack/install-deps.sh runtime, the script CI runs (as
# hack/install-deps.sh, a superset), so CI proves these install steps.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd cmd
COPY pkg pkg
COPY templates templates
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/portico ./cmd/portico

FROM debian:bookworm-slim
COPY hack/install-deps.sh /usr/local/lib/portico/install-deps.sh
# nginx binds :80 and :443 as user 101 through a file capability; the pod
# grants NET_BIND_SERVICE and allows it (deploy/portico.yaml).
RUN bash /usr/local/lib/portico/install-deps.sh runtime \
 && apt-get install -y -q --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/sbin/nginx \
 && apt-get purge -y -q libcap2-bin \
 && apt-get autoremove -y -q \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/conf.d /usr/local/lib/portico
COPY rootfs/ /
COPY --from=build /out/portico /usr/bin/portico
# Portico writes nginx.conf into /etc/nginx and runs nginx from /etc/nginx/run.
RUN groupadd --system --gid 101 portico \
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
