# Portico. `make dev` runs it on a local control plane with the seed apps;
# `make cluster` runs a one-node Kubernetes with the controller's image;
# `make test` runs every test. They install what they need (as root).

GO        ?= go
GOFLAGS   ?=
E2E_FLAGS ?=
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: all build deps tools cluster-tools test check unit e2e incluster cluster dev bench reliability docs manifests clean

all: build

build: bin/portico

bin/portico: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/portico

# nginx, the Lua module and friends from Debian, when missing.
deps:
	bash hack/install-deps.sh

# kube-apiserver, etcd and helm from the Go module proxy, cached under
# .cache/; cluster-tools adds the node's components (hack/cluster) and
# kubectl.
tools:
	bash hack/build-tools.sh >/dev/null
	bash hack/build-tools.sh helm >/dev/null
cluster-tools:
	bash hack/build-tools.sh cluster >/dev/null
	bash hack/build-tools.sh helm >/dev/null

test: deps tools check unit e2e incluster

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test $(GOFLAGS) -count=1 ./pkg/... ./cmd/... ./hack/echoserver/... ./hack/dev/... ./hack/gendocs/...

e2e: build
	$(GO) test $(GOFLAGS) -count=1 -timeout 45m ./e2e/ ./e2e/framework/ $(E2E_FLAGS)

# The controller image (built from the Dockerfile) on the one-node cluster.
incluster: cluster-tools
	$(GO) test $(GOFLAGS) -count=1 -timeout 30m ./e2e/incluster/ $(E2E_FLAGS)

# The same cluster by hand, with the images imported; Ctrl-C removes it.
cluster: cluster-tools
	bash hack/install-deps.sh cluster
	$(GO) run ./hack/cluster

dev: deps tools build
	$(GO) run ./hack/dev

# Go benchmarks of the pipeline, then the end-to-end ones on the real stack
# (each prints a table; docs/performance.md). BENCH_N lists the Ingress
# counts of BenchmarkScale (e.g. BENCH_N=10000); BENCH selects benchmarks.
BENCH   ?= .
BENCH_N ?= 100,1000
bench: deps tools build
	bash hack/install-deps.sh bench
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./pkg/...
	BENCH_N='$(BENCH_N)' $(GO) test -count=1 -timeout 60m -run '^$$' -bench '$(BENCH)' -benchtime 1x ./e2e/

# The fault-injection and adversarial suites alone, then their tables:
# fault, requests sent, failed, recovery time; hostile input, tried,
# refused, served, other tenants' changes delayed (docs/reliability.md).
reliability: deps tools build
	@mkdir -p _out
	PORTICO_FAULT_TABLE=$(CURDIR)/_out/reliability.txt PORTICO_ADVERSARIAL_TABLE=$(CURDIR)/_out/adversarial.txt \
		$(GO) test -count=1 -timeout 30m -run '^(TestFault|TestAdversarial)' ./e2e/
	@cat _out/reliability.txt; echo; cat _out/adversarial.txt

# The tables of docs/annotations.md and docs/configmap.md, from the
# annotation catalog and the ConfigMap key registry, and of docs/flags.md,
# from the controller's flag definitions (unit tests fail when the
# committed files differ).
docs:
	$(GO) run ./hack/gendocs
	UPDATE_FLAGS_DOC=1 $(GO) test -count=1 -run '^TestFlagsDoc$$' ./cmd/portico

# deploy/portico.yaml and deploy/nodeport.yaml from the Helm chart
# (deploy/helm/portico, values hack/manifests/; an e2e test fails when the
# committed files differ).
manifests:
	bash hack/manifests.sh

clean:
	rm -rf bin _out

FORCE:
