# make test   every test: go vet, staticcheck, gofmt, go test ./... (installs pouchdb-server, and
#             Chromium when missing, first)
# make run    a demo on embedded defaults: a generated user served by the devserver, synced into
#             the embedded vault .run/vault.db (instance demo), then the web app on APP_ADDR, which
#             keeps the demo account in sync (its Connections screen)
# make bench  benchmarks of the vault on both backends, the client, the sync (10k trips), the
#             report and the web app's API
# make bench-large  the 100k-trip sync and the first and next reports after it (minutes)
# make build  CGO_ENABLED=0 go build ./..., and the three programs into bin/: app and connector
#             (the participant's), collector (the researchers')
# make fuzz   fuzz the parsers (DSN, contributions, selectors, trips, server answers) for FUZZTIME each,
#             and compare the embedded store with pouchdb-server on random operations (DIFF_OPS per seed)
# make konnector  the konnector package a stock Cozy stack runs, in build/konnector/: the folder
#             coachco2-openpath/ (manifest, Node.js entry point, static linux/amd64 binary) and its
#             tarball (README, "As a Cozy konnector"); make test runs that package under Node.js
# make cozy-app  the app bundle a Cozy stack installs, in build/cozy-app/: the folder
#             coachco2-local/ (manifest, index.html, the page, the service: Node.js entry point and
#             static linux/amd64 engine) and its tarball (README, "In your Cozy")
# make cozy-doctypes COLLECTOR=URL DOCTYPES=DIR  the remote doctypes of research sharing in a
#             Cozy, for a territory's collector, into a stack's doctypes folder (README, "In your Cozy")

GO       ?= go
FUZZTIME ?= 30s
# Operations per seed of the embedded store's differential test under make fuzz (make test: 100).
DIFF_OPS ?= 500
POUCHDB  := .ci/pouchdb-server
# npm ci writes node_modules/.package-lock.json: it marks a finished install.
POUCHDB_INSTALLED := $(POUCHDB)/node_modules/.package-lock.json
# The PostgreSQL database the collector's suite also runs on (each test in its own schema); the
# suite skips that run when it is unset or unreachable, and fails instead when CI is set.
COLLECTOR_POSTGRES_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: test bench bench-large build run fuzz konnector cozy-app cozy-doctypes

test: $(POUCHDB_INSTALLED) chromium
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
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
	COACHCO2_BENCH_LARGE=1 $(GO) test -run '^$$' -bench 'Report100k' -benchmem -timeout 3h ./app

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
	@# The sync's first request is retried (with backoff) until the devserver listens. The
	@# devserver keeps serving while the app runs: the app syncs the demo account hourly and on
	@# "Sync now" (the Connections screen). The devserver stops with the app.
	@.run/connector devserver --generate users=1,days=365,seed=1,start=$(DEMO_START) --addr $(DEMO_ADDR) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' EXIT; \
	.run/connector sync --vault .run/vault.db --instance demo --server http://$(DEMO_ADDR) --token user001 --device demo-phone || exit $$?; \
	.run/app serve --vault .run/vault.db --instance demo --addr $(APP_ADDR)

konnector:
	GO='$(GO)' sh connector/cozy/package.sh build/konnector

cozy-app:
	GO='$(GO)' sh cozyapp/package.sh build/cozy-app

DOCTYPES ?= build/cozy-doctypes
cozy-doctypes:
	@test -n '$(COLLECTOR)' || { echo "usage: make cozy-doctypes COLLECTOR=https://collector.example.org/coachco2 [DOCTYPES=DIR]"; exit 2; }
	$(GO) run ./cozyapp/doctypes -collector '$(COLLECTOR)' -out '$(DOCTYPES)'

fuzz: $(POUCHDB_INSTALLED)
	$(GO) test -run '^$$' -fuzz FuzzParseDSNHidesPassword -fuzztime $(FUZZTIME) ./pkg/vault
	$(GO) test -run '^$$' -fuzz FuzzParseBatch -fuzztime $(FUZZTIME) ./pkg/study
	$(GO) test -run '^$$' -fuzz '^FuzzSelector$$' -fuzztime $(FUZZTIME) ./pkg/sqlitecouch
	@# One worker: each input runs DIFF_OPS operations against the one pouchdb-server it starts.
	COACHCO2_DIFF_OPS=$(DIFF_OPS) $(GO) test -run '^$$' -fuzz '^FuzzDifferential$$' -fuzztime $(FUZZTIME) -parallel 1 ./pkg/sqlitecouch
	$(GO) test -run '^$$' -fuzz FuzzConvert -fuzztime $(FUZZTIME) ./pkg/openpath
	$(GO) test -run '^$$' -fuzz FuzzDecodeAnswer -fuzztime $(FUZZTIME) ./pkg/openpath
	$(GO) test -run '^$$' -fuzz FuzzPostgresURLHidesPassword -fuzztime $(FUZZTIME) ./pkg/collector
