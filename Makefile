# make test   every test: go vet, gofmt, go test ./... (installs pouchdb-server first)
# make run    app check on the embedded vault .run/vault.db, instance demo
# make bench  benchmarks of the vault on both backends
# make build  CGO_ENABLED=0 go build ./...
# make fuzz   fuzz the vault DSN parser for FUZZTIME

GO       ?= go
FUZZTIME ?= 30s
POUCHDB  := .ci/pouchdb-server
# npm ci writes node_modules/.package-lock.json: it marks a finished install.
POUCHDB_INSTALLED := $(POUCHDB)/node_modules/.package-lock.json

.PHONY: test bench build run fuzz

test: $(POUCHDB_INSTALLED)
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) test ./...

# pouchdb-server, the CouchDB-protocol server of the tests, pinned by package-lock.json.
$(POUCHDB_INSTALLED): $(POUCHDB)/package-lock.json
	cd $(POUCHDB) && npm ci --no-audit --no-fund

bench: $(POUCHDB_INSTALLED)
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/vault/...

build:
	CGO_ENABLED=0 $(GO) build ./...

run:
	mkdir -p .run
	$(GO) run ./app check --vault file:.run/vault.db --instance demo

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseDSNHidesPassword -fuzztime $(FUZZTIME) ./pkg/vault
