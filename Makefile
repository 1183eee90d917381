# connrules: `make demo` runs the main job, `make test` runs every test.
GO ?= go
BIN := bin/connrules

.PHONY: all build test lint check demo bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/connrules

## test: unit, golden and conformance tests, then the policies' own tests.
test: build
	$(GO) test ./...
	$(BIN) test policies.yaml

## lint: vet, formatting, and the policies themselves.
lint: build
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(BIN) lint policies.yaml

## check: lint, build for both wasm targets, and fail if go.mod is untidy.
check: lint
	GOOS=js GOARCH=wasm $(GO) build -o /dev/null ./rules
	GOOS=wasip1 GOARCH=wasm $(GO) build -o /dev/null ./rules
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

## demo: decide an example request with the default policy.
demo: build
	$(BIN) decide --policy policies.yaml --explain examples/requests/blocked.json
	$(BIN) decide --policy policies.yaml --public examples/requests/blocked.json

## bench: engine benchmarks.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./rules

clean:
	rm -rf bin
