#!/usr/bin/env bash
# Starts a local PostgreSQL for the collector's test suite (Debian, as root) and prints the
# variable that turns the suite's PostgreSQL run on:
#
#   eval "$(bash pkg/collector/testdata/postgres.sh)"
#   go test ./pkg/collector
#
# Idempotent: installs postgresql with apt-get when missing, starts the cluster, and creates the
# role and database collector_test (owned by the role) when missing. Each test then works in a
# schema of its own, dropped at its end. Not used by `make test`.
set -euo pipefail
PW=collector-test-pw
if ! command -v pg_ctlcluster >/dev/null; then
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
VERSION=$(ls /etc/postgresql | sort -n | tail -1)
pg_ctlcluster "$VERSION" main start >&2 || true # "already running" is fine
for _ in $(seq 1 30); do
	su postgres -c "pg_isready -q" && break
	sleep 1
done
su postgres -c "psql -qAtc \"SELECT 1 FROM pg_roles WHERE rolname = 'collector'\"" | grep -q 1 ||
	su postgres -c "psql -qc \"CREATE ROLE collector LOGIN PASSWORD '$PW'\"" >&2
su postgres -c "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'collector_test'\"" | grep -q 1 ||
	su postgres -c "psql -qc 'CREATE DATABASE collector_test OWNER collector'" >&2
echo "export COLLECTOR_POSTGRES_DSN='postgres://collector:$PW@127.0.0.1:5432/collector_test?sslmode=disable'"
