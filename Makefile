# Civitas — see README.md. Every target works on a fresh clone with Go installed.
GO       ?= go
PKGS     ?= ./...
BIN      := bin/civitas
# The race detector roughly triples test time; CI's 2 cores can afford it.
RACE     ?= -race
BENCHTIME ?= 1s
COUNT    ?= 1

.PHONY: all build run demo test vet lint fmt bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/civitas

# Until the issuer service lands, `make run` runs the demonstration of the credential core.
run: build
	./$(BIN) demo

demo: run

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
