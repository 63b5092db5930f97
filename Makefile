# Makefile for bellhop. `make help` lists the targets and the variables they
# take. Recipes pass every go flag they rely on explicitly, so a GOFLAGS set in
# the environment adds to them but is never required. Longer logic lives in
# tools/scripts/, one script per job.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO ?= go
NPM ?= npm

# Tools installed with `go install` go to the first GOPATH entry's bin, and are
# called by full path because that directory may not be on PATH.
GOPATH_BIN := $(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GOPATH_BIN)/staticcheck
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
BENCHSTAT := $(GOPATH_BIN)/benchstat

# Node's `ws` for the interop tests; npm writes the hidden lockfile below on
# every install, so it stamps an install that matches package-lock.json.
NODE_STAMP := tools/node_modules/.package-lock.json

# Knobs, set on the command line: make cover COVER_MIN=85.
# TESTFLAGS: extra go test flags for `make test`, e.g. TESTFLAGS='-run TestX'.
TESTFLAGS ?=
# COVER_MIN: minimum statement coverage per package, in percent.
COVER_MIN ?= 80
# COVER_EXEMPT: directories (with their sub-packages) whose coverage is
# reported but not held to COVER_MIN: commands and developer tools.
COVER_EXEMPT ?= cmd tools
# FUZZTIME: how long each fuzz target runs; FUZZPKG: where to look for them.
FUZZTIME ?= 20s
FUZZPKG ?= ./...
# COUNT: runs per benchmark (benchstat wants at least 6); BENCH: name pattern.
COUNT ?= 6
BENCH ?= .
# ARGS: extra flags for `make run`, e.g. ARGS='-addr 127.0.0.1:9000'.
ARGS ?=

.PHONY: help run build test conformance lint cover fuzz bench bench-peers bench-load benchbase benchcmp clean \
	deps deps-node deps-peers-node deps-redis deps-chromium deps-staticcheck deps-benchstat

# help prints each target's `##` text and the variables above.
help: ## List targets and variables.
	@echo "usage: make TARGET [VAR=value ...]"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "variables: TESTFLAGS COVER_MIN=$(COVER_MIN) COVER_EXEMPT='$(COVER_EXEMPT)' FUZZTIME=$(FUZZTIME)"
	@echo "           FUZZPKG=$(FUZZPKG) COUNT=$(COUNT) BENCH=$(BENCH) ARGS"

# run starts the server on its defaults: the embedded in-memory broker (no
# Redis) and an echo endpoint at /echo for trying clients against.
# It uses development credentials unless JWT_SECRET and API_KEY are set:
# never use these in production.
DEV_JWT_SECRET := bellhop-development-secret-do-not-use-in-prod
DEV_API_KEY := bellhop-dev-api-key
run: ## Build bin/bellhop and run it: hotel endpoint /ws (dev JWT_SECRET), echo /echo, admin and board :9090 (ARGS adds flags).
	$(GO) build -o bin/bellhop ./cmd/bellhop
	@echo "operations board: http://127.0.0.1:$${METRICS_PORT:-9090}/board/ (development login on)"
	JWT_SECRET="$${JWT_SECRET:-$(DEV_JWT_SECRET)}" API_KEY="$${API_KEY:-$(DEV_API_KEY)}" DEV_LOGIN="$${DEV_LOGIN:-true}" \
		bin/bellhop -echo-path /echo $(ARGS)

# build compiles every package, including those only tests import, and puts
# the commands in bin/.
build: ## Compile all packages; put the commands in bin/.
	$(GO) build ./...
	@mkdir -p bin
	$(GO) build -o bin/ ./cmd/... ./tools/gencert

# test is what CI runs; its output ends with go test's summary lines.
# The peer servers of bench/peers are a module of their own; their tests check
# that each speaks the echo protocol the benchmarks rely on.
test: deps ## Run every test with -race and -shuffle (installs test dependencies first).
	$(GO) test -race -shuffle=on -count=1 -timeout 20m $(TESTFLAGS) ./...
	cd bench/peers && $(GO) test -race -shuffle=on -count=1 -timeout 10m $(TESTFLAGS) ./...

# conformance runs only the wire tests: RFC 6455/7692 case groups and the
# independent clients (Node's ws).
conformance: deps ## Run the wire conformance and interop tests of engine/.
	$(GO) test -race -count=1 -run 'Conformance|Autobahn|Interop' ./engine/...

# lint runs all checks even after one fails; see tools/scripts/lint.sh.
lint: deps-staticcheck ## gofmt -l, go vet, staticcheck and the fmt.Print/println ban.
	@GO=$(GO) bash tools/scripts/lint.sh "$(STATICCHECK)"

# cover enforces COVER_MIN on every package with tests outside COVER_EXEMPT.
cover: deps ## Per-package coverage with -race; fail below COVER_MIN%.
	@GO=$(GO) COVER_MIN=$(COVER_MIN) COVER_EXEMPT="$(COVER_EXEMPT)" bash tools/scripts/cover.sh

# fuzz finds targets with `go test -list '^Fuzz'` and runs them one at a time.
fuzz: ## Run every fuzz target for FUZZTIME each.
	@GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZPKG="$(FUZZPKG)" bash tools/scripts/fuzz.sh

# bench writes results/bench-YYYYMMDD-HHMMSS.txt; keep a baseline with
# `make benchbase` and compare later runs with `make benchcmp`.
bench: deps ## Run benchmarks COUNT times into results/bench-<date>.txt.
	@mkdir -p results
	@out=results/bench-$$(date +%Y%m%d-%H%M%S).txt; \
	echo "writing $$out"; \
	$(GO) test -run='^$$' -bench='$(BENCH)' -benchmem -count=$(COUNT) ./... | tee "$$out"

# bench-peers runs every bellhop-bench scenario against bellhop and the peer
# servers of bench/peers (gws, gorilla, nbio, Node ws), server on core 0 and
# load on core 1, and writes results/peers-<date>/report.md. It takes about
# eight minutes per round; see tools/scripts/bench-peers.sh for its knobs
# (ROUNDS, SERVERS, CASES, connection counts), passed as environment
# variables: make bench-peers ROUNDS=3.
bench-peers: deps-peers-node ## Every scenario against bellhop, gws, gorilla, nbio and Node ws; report in results/peers-<date>/.
	@GO=$(GO) bash tools/scripts/bench-peers.sh

# bench-load is bench-peers against bellhop alone: for sizing and tuning a node.
bench-load: ## Every bellhop-bench scenario against bellhop alone; report in results/peers-<date>/.
	@SERVERS=bellhop GO=$(GO) bash tools/scripts/bench-peers.sh

# bench-cluster measures fan-out across nodes: N subscribers on one node and
# on two nodes joined by a Redis it starts (N/2 each), the same alerts
# published on node A, side by side in results/cluster-<date>/report.md.
# Knobs (N, MESSAGES, RATES, SIZE, ROUNDS...) are environment variables; see
# tools/scripts/bench-cluster.sh: make bench-cluster N=2000 RATES=0.
.PHONY: bench-cluster
bench-cluster: deps-redis ## Fan-out on 1 node vs 2 nodes over Redis; report in results/cluster-<date>/.
	@GO=$(GO) bash tools/scripts/bench-cluster.sh

# LATEST_BENCH is the newest bench output (names sort by date), expanded
# when a recipe runs.
LATEST_BENCH = $(lastword $(sort $(wildcard results/bench-[0-9]*.txt)))

# benchbase makes the newest result the baseline for benchcmp.
benchbase: ## Copy the newest results/bench-*.txt to results/bench-base.txt.
	@if [ -z "$(LATEST_BENCH)" ]; then echo "benchbase: no results/bench-*.txt; run 'make bench' first"; exit 1; fi
	cp "$(LATEST_BENCH)" results/bench-base.txt

# benchcmp compares the baseline with the newest run.
benchcmp: deps-benchstat ## benchstat results/bench-base.txt against the newest results/bench-*.txt.
	@if [ ! -f results/bench-base.txt ]; then \
		echo "benchcmp: results/bench-base.txt is missing; run 'make bench benchbase' on the base commit"; exit 1; fi
	@if [ -z "$(LATEST_BENCH)" ]; then echo "benchcmp: no results/bench-*.txt; run 'make bench'"; exit 1; fi
	"$(BENCHSTAT)" results/bench-base.txt "$(LATEST_BENCH)"

# clean keeps results/ (benchmark baselines) and tools/node_modules.
clean: ## Remove bin/ and coverage/.
	rm -rf bin coverage

# deps is idempotent: each part checks what is there and does nothing when it
# is already right, so a second run takes well under a second.
deps: deps-node deps-peers-node deps-redis deps-chromium deps-staticcheck ## Install test dependencies: ws (npm), redis-server, chromium, staticcheck.

deps-node: $(NODE_STAMP)

# The Node peer server's ws, stamped like tools/'s.
PEERS_NODE_STAMP := bench/peers/node/node_modules/.package-lock.json
deps-peers-node: $(PEERS_NODE_STAMP)

$(PEERS_NODE_STAMP): bench/peers/node/package.json bench/peers/node/package-lock.json
	cd bench/peers/node && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

$(NODE_STAMP): tools/package.json $(wildcard tools/package-lock.json)
	cd tools && if [ -f package-lock.json ]; then \
		$(NPM) ci --no-audit --no-fund --loglevel=error; \
	else \
		$(NPM) install --no-audit --no-fund --loglevel=error; \
	fi
	@touch $@

# deps-redis installs only the binary; tests start their own servers.
deps-redis:
	@command -v redis-server >/dev/null 2>&1 || bash tools/scripts/install-redis.sh

# staticcheck -version prints e.g. "staticcheck 2026.2.2 (0.8.2)". GOFLAGS is
# cleared for tool installs, which must not take the project's build flags.
deps-chromium:
	@command -v chromium >/dev/null 2>&1 || bash tools/scripts/install-chromium.sh

deps-staticcheck:
	@if ! "$(STATICCHECK)" -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION:v%=%))'; then \
		echo "installing staticcheck $(STATICCHECK_VERSION) into $(GOPATH_BIN)"; \
		GOFLAGS= GOBIN="$(GOPATH_BIN)" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

deps-benchstat:
	@if [ ! -x "$(BENCHSTAT)" ]; then \
		echo "installing benchstat into $(GOPATH_BIN)"; \
		GOFLAGS= GOBIN="$(GOPATH_BIN)" $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION); \
	fi
