# Civitas — see README.md. Every target works on a fresh clone with Go installed.
GO       ?= go
PKGS     ?= ./...
BIN      := bin/civitas
# The race detector roughly triples test time; CI's 2 cores can afford it.
RACE     ?= -race
BENCHTIME ?= 1s
COUNT    ?= 1

.PHONY: all build run demo test vet lint fmt bench bench-http bench-compare interop fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/civitas

# The issuer service with its defaults: ./civitas-data, SQLite, http://127.0.0.1:8080.
run: build
	./$(BIN) serve

# A walk through the credential core (keys, issuance, verification, presentation).
demo: build
	./$(BIN) demo

vet:
	$(GO) vet $(PKGS)

test: vet
	$(GO) test $(RACE) -count=1 $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest $(PKGS)

# Benchmarks, with the ratios to raw crypto/ed25519 reported as x-ed25519 metrics.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) -count=$(COUNT) $(PKGS)

# Interoperability with an independent implementation (trustbloc/vc-go), in its own module
# interop/ so that vc-go never enters this module's dependencies.
interop:
	cd interop && $(GO) vet ./... && $(GO) test $(RACE) -count=1 ./...

# Civitas next to vc-go and raw crypto/ed25519, interleaved in one loop, then a table of
# medians (make bench-compare COUNT=5). The table tool fails if the benchmarks did.
bench-compare:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cd interop && $(GO) build -o "$$tmp/benchtable" ./cmd/benchtable && \
	$(GO) test -run='^$$' -bench=BenchmarkCompare -benchmem -benchtime=$(BENCHTIME) -count=$(COUNT) . 2>&1 | "$$tmp/benchtable"

# Load benchmark of the real server over loopback: issuance and verification throughput,
# p50/p99 latency and server peak RSS. BENCH_ARGS, e.g. --duration 20s --db postgres://…
bench-http: build
	$(GO) run ./cmd/civitas-bench --server $(BIN) $(BENCH_ARGS)

# A short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 10s
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list='^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s $$pkg; \
	  done; \
	done

clean:
	rm -rf bin
