# make test   every test: go vet, gofmt, go test ./... (installs pouchdb-server, and Chromium when
#             missing, first)
# make run    a demo on embedded defaults: a generated user served by the devserver, synced into
#             the embedded vault .run/vault.db (instance demo), then the web app on APP_ADDR
# make bench  benchmarks of the vault on both backends, the client, the sync (10k trips), the
#             report and the web app's API
# make bench-large  the 100k-trip sync (minutes)
# make build  CGO_ENABLED=0 go build ./..., and the three programs into bin/: app and connector
#             (the participant's), collector (the researchers')
# make fuzz   fuzz the parsers (DSN, contributions, selectors, trips, server answers) for FUZZTIME each

GO       ?= go
FUZZTIME ?= 30s
POUCHDB  := .ci/pouchdb-server
# npm ci writes node_modules/.package-lock.json: it marks a finished install.
POUCHDB_INSTALLED := $(POUCHDB)/node_modules/.package-lock.json
# The PostgreSQL database the collector's suite also runs on (each test in its own schema); the
# suite skips that run when it is unset or unreachable, and fails instead when CI is set.
COLLECTOR_POSTGRES_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: test bench bench-large build run fuzz

test: $(POUCHDB_INSTALLED) chromium
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	COLLECTOR_POSTGRES_DSN='$(COLLECTOR_POSTGRES_DSN)' $(GO) test ./...

# pouchdb-server, the CouchDB-protocol server of the tests, pinned by package-lock.json.
$(POUCHDB_INSTALLED): $(POUCHDB)/package-lock.json
	cd $(POUCHDB) && npm ci --no-audit --no-fund

# Debian's Chromium, for the real-browser tests (pkg/browsertest), installed with apt-get when
# missing. That needs root, as on CI; otherwise this says so and goes on: the browser tests then
# skip, or fail when CI is set.
.PHONY: chromium
chromium:
	@if command -v chromium >/dev/null 2>&1 || { [ -n "$$CHROMIUM" ] && [ -x "$$CHROMIUM" ]; }; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: Chromium is missing, and installing it needs root: run"; \
		echo "      sudo apt-get install -y --no-install-recommends chromium   (or set CHROMIUM=/path/to/chromium)"; \
		echo "      Until then the real-browser tests skip (and fail when CI is set)."; \
		exit 0; \
	fi; \
	echo "make: installing Debian's chromium for the real-browser tests"; \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

bench: $(POUCHDB_INSTALLED)
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/vault/... ./pkg/openpath/... ./pkg/tripsync ./app ./pkg/webapp

bench-large: $(POUCHDB_INSTALLED)
	COACHCO2_BENCH_LARGE=1 $(GO) test -run '^$$' -bench 'Sync100k' -benchmem -timeout 3h ./pkg/tripsync

build:
	CGO_ENABLED=0 $(GO) build ./...
	CGO_ENABLED=0 $(GO) build -o bin/ ./app ./connector ./collector

DEMO_ADDR ?= 127.0.0.1:18090
APP_ADDR  ?= 127.0.0.1:8080
# The demo user's year of trips ends today.
DEMO_START := $(shell date -d '-364 days' +%F 2>/dev/null || echo 2025-01-01)

run:
	mkdir -p .run
	$(GO) build -o .run/connector ./connector
	$(GO) build -o .run/app ./app
	@# The sync's first request is retried (with backoff) until the devserver listens.
	@.run/connector devserver --generate users=1,days=365,seed=1,start=$(DEMO_START) --addr $(DEMO_ADDR) & pid=$$!; \
	.run/connector sync --vault .run/vault.db --instance demo --server http://$(DEMO_ADDR) --token user001 --device demo-phone; \
	status=$$?; kill $$pid 2>/dev/null; [ $$status -eq 0 ] || exit $$status; \
	.run/app serve --vault .run/vault.db --instance demo --addr $(APP_ADDR)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseDSNHidesPassword -fuzztime $(FUZZTIME) ./pkg/vault
	$(GO) test -run '^$$' -fuzz FuzzParseBatch -fuzztime $(FUZZTIME) ./pkg/study
	$(GO) test -run '^$$' -fuzz FuzzSelector -fuzztime $(FUZZTIME) ./pkg/sqlitecouch
	$(GO) test -run '^$$' -fuzz FuzzConvert -fuzztime $(FUZZTIME) ./pkg/openpath
	$(GO) test -run '^$$' -fuzz FuzzDecodeAnswer -fuzztime $(FUZZTIME) ./pkg/openpath
