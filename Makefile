# connrules: `make demo` runs the main job, `make test` runs every test.
GO ?= go
BIN := bin/connrules

.PHONY: all build test lint check demo web e2e wasm bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/connrules

## test: unit, golden and conformance tests, then the policies' own tests.
test: build
	$(GO) test ./...
	$(BIN) test policies.yaml
	$(MAKE) e2e

## lint: vet, formatting, and the policies themselves.
lint: build
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(BIN) lint policies.yaml

## check: lint, build for both wasm targets, and fail if go.mod is untidy.
check: lint
	GOOS=js GOARCH=wasm $(GO) build -o /dev/null ./rules
	GOOS=wasip1 GOARCH=wasm $(GO) build -o /dev/null ./rules
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/js
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasm/wasip1
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

## demo: build the browser demo (web/) and serve it on localhost; open the URL it prints.
DEMO_ADDR ?= 127.0.0.1:8080
demo: web
	$(GO) run ./cmd/connrules-serve -addr $(DEMO_ADDR) web

## web: the js module, wasm_exec.js and the policies the page offers, into web/.
web:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o web/connrules.wasm ./wasm/js
	gzip -9 -n -k -f web/connrules.wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" web/wasm_exec.js
	mkdir -p web/policies
	cp policies.yaml examples/policies/*.yaml web/policies/
	@{ printf '['; sep=''; for f in policies.yaml $$(cd examples/policies && ls *.yaml); do \
	  n=$$(sed -n 's/^name: *//p' web/policies/$$f | head -n1); printf '%s{"file":"%s","title":"%s"}' "$$sep" "$$f" "$${n:-$$f}"; sep=','; done; \
	  printf ']\n'; } > web/policies/index.json

## e2e: the browser demo driven in headless Chromium (/usr/bin/chromium); its own module, web/e2e.
e2e: web
	cd web/e2e && $(GO) test -count=1 ./...

## wasm: both WebAssembly modules, reproducibly: host/connrules.wasm (wasip1,
## embedded by host/ and committed; run this after changing rules/ or
## wasm/guest, or TestEmbeddedModuleIsFresh fails) and bin/connrules-js.wasm.
## make test runs the three-runtime corpus (go test ./host: native, wazero, Node).
wasm:
	$(GO) run ./wasm/build

## bench: engine benchmarks; then native, wazero and Node side by side.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./rules
	$(GO) test -run '^$$' -bench . -benchmem ./host
	$(GO) run ./wasm/build js
	$(BIN) bench

clean:
	rm -rf bin
