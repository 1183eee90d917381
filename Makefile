# connrules: `make demo` runs the main job, `make test` does the set-up and runs every test.
SHELL := /bin/bash
GO ?= go
BIN := bin/connrules

.PHONY: all build setup test test-go test-e2e lint check demo web editor editor-check e2e screenshots wasm bench bench-peers test-peers clean

all: build

## build: the CLI, stamped with the module version and VCS revision
## (`connrules --version`); -buildvcs=auto overrides a GOFLAGS that turns it off.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/connrules

## setup: install what the tests need when it is missing (Debian: Chromium
## for the browser tests, Node for the js conformance run); safe to repeat.
setup:
	bash .ci/setup

## test: the set-up, then every test: the Go packages (with PostgreSQL when
## .ci/postgres.sh exists) and the policies' own tests beside the browser
## tests. It fails if the tests changed the work tree.
test: setup build web editor-check
	@before=$$({ git status --porcelain; git diff; } 2>/dev/null | sha1sum); \
	$(MAKE) --no-print-directory -j2 --output-sync=line test-go test-e2e || exit $$?; \
	after=$$({ git status --porcelain; git diff; } 2>/dev/null | sha1sum); \
	if [ "$$before" != "$$after" ]; then echo "make test changed the work tree:"; git status --short; exit 1; fi

## test-go: unit, golden and conformance tests, then the policies' own tests.
test-go: build
	@if [ -f .ci/postgres.sh ] && [ -z "$${CONNRULES_POSTGRES_URL:-}" ]; then . .ci/postgres.sh >/dev/null || exit 1; fi; \
	echo "$(GO) test ./..."; $(GO) test ./...
	$(GO) test -tags sqlstores ./rules/lifecycle -args -store=sqlite
	$(BIN) test policies.yaml

## test-e2e: the browser tests, on the web/ that is already built. Without
## Chromium they fail; CONNRULES_SKIP_E2E=1 skips them on purpose.
test-e2e:
	@if [ "$${CONNRULES_SKIP_E2E:-}" = 1 ]; then echo "test-e2e: the browser tests are SKIPPED, as CONNRULES_SKIP_E2E=1 asks"; fi
	cd web/e2e && $(GO) test -count=1 ./...

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
	GOOS=js GOARCH=wasm $(GO) vet -tags author ./wasm/js
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasm/wasip1
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

## demo: build the browser demo (web/) and serve it on localhost; open the URL it prints.
DEMO_ADDR ?= 127.0.0.1:8080
demo: web
	$(GO) run ./cmd/connrules-serve -addr $(DEMO_ADDR) web

IMPACT_SAMPLE_LINES ?= 6000

## web: the js modules (the page's, and the editor workers' built with
## -tags author; wasm/build rewrites their data after linking, see
## wasm/wasmbuild), wasm_exec.js and the policies the page offers, into
## web/, with gzip and brotli copies of the modules that connrules-serve
## sends as they are.
web:
	$(GO) run ./wasm/build -br -o web/connrules.wasm js
	$(GO) run ./wasm/build -br -tags author -o web/connrules-author.wasm js
	gzip -9 -n -k -f web/connrules.wasm web/connrules-author.wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" web/wasm_exec.js
	mkdir -p web/policies
	cp policies.yaml examples/policies/*.yaml web/policies/
	@{ printf '['; sep=''; for f in policies.yaml $$(cd examples/policies && ls *.yaml); do \
	  n=$$(sed -n 's/^name: *//p' web/policies/$$f | head -n1); printf '%s{"file":"%s","title":"%s"}' "$$sep" "$$f" "$${n:-$$f}"; sep=','; done; \
	  printf ']\n'; } > web/policies/index.json
	@# The impact panel's sample: the first $(IMPACT_SAMPLE_LINES) lines of the sample log.
	gzip -dc examples/events/sample.jsonl.gz | head -n $(IMPACT_SAMPLE_LINES) | gzip -9 -n > web/sample.jsonl.gz

## editor: rebuild the committed CodeMirror bundle web/editor.bundle.js from
## web/editor (package-lock.json pins every package; needs npm, the demo does not).
editor:
	cd web/editor && npm ci --no-audit --no-fund && ./build.sh

## editor-check: fail if web/editor.bundle.js is not what `make editor` builds
## (after a change to web/editor/src, its packages or docs/reference.json).
editor-check:
	@command -v npm >/dev/null || { echo "editor-check: npm is missing (make setup installs it)"; exit 1; }
	cd web/editor && npm ci --no-audit --no-fund --loglevel=error
	@tmp=$$(mktemp -d) && web/editor/build.sh "$$tmp/editor.bundle.js" && \
	  if cmp -s "$$tmp/editor.bundle.js" web/editor.bundle.js; then rm -r "$$tmp"; echo "web/editor.bundle.js is fresh"; \
	  else rm -r "$$tmp"; echo "web/editor.bundle.js is stale: run make editor and commit it"; exit 1; fi

## e2e: the browser demo driven in headless Chromium (/usr/bin/chromium); its own module, web/e2e.
e2e: web test-e2e

## screenshots: refresh the README's pictures in web/e2e/screenshots (the
## tests alone write theirs to a temporary folder).
screenshots: web
	cd web/e2e && CONNRULES_SCREENSHOTS=$(CURDIR)/web/e2e/screenshots $(GO) test -count=1 ./...

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

## bench-peers: connrules beside OPA, cel-go and a hand-written Go function
## of the invite stage (bench/peers, its own module), as ratios to the floor.
bench-peers:
	cd bench/peers && $(GO) test -run '^$$' -bench . -benchmem -count 3 -benchtime 1s | $(GO) run ./cmd/ratios

## test-peers: the peers' equivalence tests (builds OPA: slow the first time).
test-peers: wasm
	cd bench/peers && $(GO) test -short ./...

clean:
	rm -rf bin
