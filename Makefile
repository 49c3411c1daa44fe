# corral: make help lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/corral
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(HOME)/go/bin/staticcheck)
IMAGE_REPO ?= corral
IMAGE ?= $(IMAGE_REPO):$(VERSION)
GO_IMAGE ?= golang:1.26-bookworm
CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt

FUZZTIME ?= 60s
SOAK ?= 3m
SOAK_SEED ?=
SOAK_FLAGS ?=

.PHONY: help build dev test test-short lint soak fuzz bench bench-compare bench-peers image image-source e2e clean

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/corral (static, version stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/corral

dev: build ## run corral with an embedded store: proxy on :6379, admin on :9121
	$(BIN) dev --log-format text

test: ## run every test with the race detector (needs redis-server and redis-cli on PATH), then the server, proxy and compatibility tests again on event loops
	$(GO) test -race -count=1 -timeout 12m ./...
	CORRAL_TEST_IO_LOOPS=2 $(GO) test -race -count=1 -timeout 5m ./internal/server/ ./proxy/ ./test/compat/

test-short: ## run the tests without the race detector
	$(GO) test -count=1 ./...

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags soak ./test/soak/
	$(GO) vet -tags e2e ./deploy/e2e/
	@test -x "$(STATICCHECK)" || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2 # release 2026.2.2
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags soak ./test/soak/
	$(STATICCHECK) -tags e2e ./deploy/e2e/

soak: ## mixed load through a proxy to 3 stores under kills, cuts, slow and failing origin for SOAK (3m); SOAK_SEED reruns a schedule
	CORRAL_SOAK_DURATION=$(SOAK) CORRAL_SOAK_SEED=$(SOAK_SEED) $(GO) test -tags soak -count=1 -v -timeout 60m $(SOAK_FLAGS) -run '^TestSoak$$' ./test/soak/

fuzz: ## every fuzz target for FUZZTIME (60s) each: RESP parser, SET/integer/float arguments, snapshot decoder
	scripts/fuzz.sh FuzzReadCommand internal/resp $(FUZZTIME)
	scripts/fuzz.sh FuzzParseSet internal/command $(FUZZTIME)
	scripts/fuzz.sh FuzzParseInt internal/command $(FUZZTIME)
	scripts/fuzz.sh FuzzParseFloat internal/command $(FUZZTIME)
	scripts/fuzz.sh FuzzReadSnapshot cluster/engine $(FUZZTIME)

bench: ## Go benchmarks of the hot paths (-benchmem)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/resp/ ./internal/command/ ./cluster/engine/ ./proxy/

bench-compare: build ## redis-benchmark GET against redis-server and corral dev, alternating, medians of 3, ratios
	scripts/bench-compare.sh

bench-peers: build ## zipf workload against redis-server, nutcracker and corral (L1 on, off), alternating, medians, ratios
	scripts/bench-peers.sh

image: build ## container image corral:<version> and corral:latest from bin/corral on scratch (nothing pulled)
	rm -rf bin/image && mkdir -p bin/image
	cp $(BIN) bin/image/corral
	cp $(CA_CERTS) bin/image/ca-certificates.crt
	docker build -f deploy/Dockerfile.prebuilt --build-arg VERSION=$(VERSION) \
		-t $(IMAGE) -t $(IMAGE_REPO):latest bin/image

image-source: ## the same image compiled in a Go stage (pulls GO_IMAGE, golang:1.26-bookworm)
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) --build-arg GO_IMAGE=$(GO_IMAGE) \
		-t $(IMAGE) -t $(IMAGE_REPO):latest .

e2e: image ## the Kubernetes manifests on Docker: 3 stores, 2 proxies; kill, network cut, rolling restart, stampede
	CORRAL_E2E_IMAGE=$(IMAGE) scripts/e2e.sh

clean: ## remove build output
	rm -rf bin
