# Portico controller image: Debian's nginx with the Lua module, Portico's Lua
# balancer from rootfs/, and the static portico binary. The package install is
# hack/install-deps.sh, the same script CI runs, so CI proves these steps.

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
# nginx binds :80 and :443 as a non-root user through a file capability.
RUN bash /usr/local/lib/portico/install-deps.sh runtime \
 && apt-get install -y -q --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/sbin/nginx \
 && apt-get purge -y -q libcap2-bin \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/conf.d
COPY rootfs/ /
COPY --from=build /out/portico /usr/bin/portico
RUN install -d -o 101 -g 101 /etc/nginx/run \
 && chown 101:101 /etc/nginx
USER 101:101
EXPOSE 80 443 10254
ENTRYPOINT ["/usr/bin/portico"]
CMD ["controller"]
