# make test   every test: go vet, gofmt, go test ./... (installs pouchdb-server first)
# make run    a demo on embedded defaults: a generated user served by the devserver, synced into
#             the embedded vault .run/vault.db (instance demo), then checked
# make bench  benchmarks of the vault on both backends
# make build  CGO_ENABLED=0 go build ./...
# make fuzz   fuzz the parsers (DSN, contributions, selectors, trips) for FUZZTIME each

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
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/vault/... ./pkg/openpath/... ./pkg/tripsync ./app

build:
	CGO_ENABLED=0 $(GO) build ./...

DEMO_ADDR ?= 127.0.0.1:18090

run:
	mkdir -p .run
	$(GO) build -o .run/connector ./connector
	$(GO) build -o .run/app ./app
	@.run/connector devserver --generate users=1,days=365,seed=1 --addr $(DEMO_ADDR) & pid=$$!; \
	trap "kill $$pid 2>/dev/null" EXIT; sleep 1; \
	.run/connector sync --vault .run/vault.db --instance demo --server http://$(DEMO_ADDR) --token user001 --device demo-phone && \
	.run/app check --vault .run/vault.db --instance demo

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseDSNHidesPassword -fuzztime $(FUZZTIME) ./pkg/vault
	$(GO) test -run '^$$' -fuzz FuzzParseBatch -fuzztime $(FUZZTIME) ./pkg/study
	$(GO) test -run '^$$' -fuzz FuzzSelector -fuzztime $(FUZZTIME) ./pkg/sqlitecouch
	$(GO) test -run '^$$' -fuzz FuzzConvert -fuzztime $(FUZZTIME) ./pkg/trip
