# corral: make help lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/corral
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(HOME)/go/bin/staticcheck)

.PHONY: help build dev test test-short lint bench bench-compare clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/corral (static, version stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/corral

dev: build ## run corral with an embedded store: proxy on :6379, admin on :9121
	$(BIN) dev --log-format text

test: ## run every test with the race detector (needs redis-server and redis-cli on PATH)
	$(GO) test -race -count=1 -timeout 12m ./...

test-short: ## run the tests without the race detector
	$(GO) test -count=1 ./...

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x "$(STATICCHECK)" || $(GO) install honnef.co/go/tools/cmd/staticcheck@2026.2.2
	$(STATICCHECK) ./...

bench: ## Go benchmarks of the hot paths (-benchmem)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/resp/ ./internal/command/ ./cluster/engine/ ./proxy/

bench-compare: build ## redis-benchmark GET against redis-server and corral dev, alternating, medians of 3, ratios
	scripts/bench-compare.sh

clean: ## remove build output
	rm -rf bin
