#!/usr/bin/env bash
# The one test command. Installs what the tests need on a fresh machine, starts the real servers
# they talk to on loopback ports (Redis, Prometheus, Alertmanager, a Bolt server, SMTP), runs every
# test, and stops what it started, even when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Python packages the interoperability tests use (redis-py's Lock), in a venv under target/ so the
# system Python is left alone.
VENV="$PWD/target/test-venv"
# ArcadeDB's PyPI package ships the server jars, its Bolt plugin and a Java 21+ runtime (the graph
# tests' Bolt server; the machine's Java is too old for it).
ARCADEDB_PIP_VERSION=26.10.2.post1
if ! "$VENV/bin/python" -c 'import redis, bandit, aiosmtpd, scipy' >/dev/null 2>&1 || [ ! -x "$VENV/bin/ruff" ] \
  || ! "$VENV/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("arcadedb-embedded") != sys.argv[1])' \
    "$ARCADEDB_PIP_VERSION" >/dev/null 2>&1; then
  echo "tests/run.sh: creating $VENV (redis-py; ruff and bandit for the gate-command tests; ArcadeDB for the graph tests; aiosmtpd for the e-mail notifier; SciPy, the peer \`ccp bench --all\` times the judge against)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'redis==8.1.0' 'ruff==0.17.5' 'bandit==1.9.4' \
    "arcadedb-embedded==$ARCADEDB_PIP_VERSION" 'aiosmtpd==1.4.6' \
    'scipy==1.14.1' 'numpy==2.1.3'
fi
export CCP_TEST_PYTHON="$VENV/bin/python"

# Tests write state (audit logs) only under temporary directories; keep the user's state dir out.
WORK="$(mktemp -d)"
export CCP_STATE_DIR="$WORK/state"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until `$@` succeeds (a server answering), at most ~10 s (WAIT_TRIES tenths of a second).
wait_for() {
  for _ in $(seq 1 "${WAIT_TRIES:-100}"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "tests/run.sh: gave up waiting for: $*" >&2
  return 1
}

# Redis: a throwaway server, no persistence, loopback only.
REDIS_PORT="$(free_port)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$WORK" --logfile "$WORK/redis.log" &
PIDS+=($!)
wait_for redis-cli -p "$REDIS_PORT" ping
export CCP_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
# Tests that must stop Redis mid-run start their own from this binary.
export CCP_TEST_REDIS_SERVER="$(command -v redis-server)"
# A Bolt graph server for the graph backend: ArcadeDB with its Bolt plugin (the plugin list is
# required, or Bolt never starts), run from the pip package's jars on its bundled Java. Throwaway
# root directory, loopback only (Bolt and HTTP); database `ccp` is created at start. Its Bolt port
# opens before that database exists, so readiness is a Cypher query on `ccp` over HTTP.
ARCADEDB_HOME="$("$VENV/bin/python" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("arcadedb_embedded").origin))')"
BOLT_PORT="$(free_port)"
ARCADEDB_HTTP_PORT="$(free_port)"
BOLT_PASSWORD="ccp-test-$RANDOM$RANDOM"
mkdir -p "$WORK/arcadedb"
(cd "$WORK/arcadedb" && exec "$ARCADEDB_HOME/jre/bin/java" -Xmx512m \
  -Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin \
  -Darcadedb.bolt.host=127.0.0.1 -Darcadedb.bolt.port="$BOLT_PORT" \
  -Darcadedb.server.httpIncomingHost=127.0.0.1 -Darcadedb.server.httpIncomingPort="$ARCADEDB_HTTP_PORT" \
  -Darcadedb.server.rootPassword="$BOLT_PASSWORD" -Darcadedb.server.defaultDatabases='ccp[root]' \
  -Darcadedb.server.rootPath="$WORK/arcadedb" \
  -cp "$ARCADEDB_HOME/jars/*" com.arcadedb.server.ArcadeDBServer) >"$WORK/arcadedb.log" 2>&1 &
PIDS+=($!)
arcadedb_ready() {
  python3 - "$BOLT_PORT" "$ARCADEDB_HTTP_PORT" "$BOLT_PASSWORD" <<'PY'
import base64, socket, sys, urllib.request
bolt, http, pw = sys.argv[1:]
socket.create_connection(("127.0.0.1", int(bolt)), timeout=1).close()
req = urllib.request.Request(f"http://127.0.0.1:{http}/api/v1/command/ccp",
                             data=b'{"language":"cypher","command":"RETURN 1 AS ok"}',
                             headers={"Authorization": "Basic " + base64.b64encode(f"root:{pw}".encode()).decode()})
urllib.request.urlopen(req, timeout=2)
PY
}
WAIT_TRIES=600 wait_for arcadedb_ready || { tail -n 30 "$WORK/arcadedb.log" >&2; exit 1; }
export CCP_TEST_BOLT_URL="bolt://127.0.0.1:$BOLT_PORT"
export CCP_TEST_BOLT_USER=root
export CCP_TEST_BOLT_PASSWORD="$BOLT_PASSWORD"
export CCP_TEST_BOLT_DATABASE=ccp
# Prometheus and Alertmanager for the real chain: fleet exporter -> Prometheus (1 s scrapes, the
# documented alert rules) -> Alertmanager -> `ccp run`. Tests add scrape targets by writing
# file_sd JSON files into $CCP_TEST_PROMETHEUS_TARGETS; Alertmanager posts to
# $CCP_TEST_WEBHOOK_LISTEN, where the end-to-end test's `ccp run` listens.
http_ok() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1"; }
PROM_PORT="$(free_port)"
AM_PORT="$(free_port)"
WEBHOOK_PORT="$(free_port)"
mkdir -p "$WORK/prom-targets" "$WORK/prom-data" "$WORK/am-data"
cat >"$WORK/alertmanager.yml" <<AM
route:
  receiver: ccp
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: ccp
    webhook_configs:
      - url: http://127.0.0.1:$WEBHOOK_PORT/webhooks/alertmanager
        send_resolved: true
AM
cat >"$WORK/prometheus.yml" <<PROM
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/assets/prometheus/ccp-fleet-rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$AM_PORT"]
scrape_configs:
  - job_name: ccp-fleet
    file_sd_configs:
      - files: ["$WORK/prom-targets/*.json"]
        refresh_interval: 1s
PROM
prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am-data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= >"$WORK/alertmanager.log" 2>&1 &
PIDS+=($!)
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
wait_for http_ok "http://127.0.0.1:$AM_PORT/-/ready"
wait_for http_ok "http://127.0.0.1:$PROM_PORT/-/ready"
export CCP_TEST_PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT"
export CCP_TEST_PROMETHEUS_TARGETS="$WORK/prom-targets"
export CCP_TEST_ALERTMANAGER_URL="http://127.0.0.1:$AM_PORT"
export CCP_TEST_WEBHOOK_LISTEN="127.0.0.1:$WEBHOOK_PORT"
export CCP_TEST_PROMTOOL="$(command -v promtool)"

# SMTP for the e-mail notifier: aiosmtpd's Mailbox handler stores every message it accepts in a
# maildir, which tests/notifiers.rs reads back. The directory must not exist yet: Python's Maildir
# creates tmp/ new/ cur/ only when it creates the directory itself.
SMTP_PORT="$(free_port)"
"$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$WORK/mail" \
  >"$WORK/aiosmtpd.log" 2>&1 &
PIDS+=($!)
smtp_ready() { python3 -c 'import smtplib, sys; smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=1).quit()' "$SMTP_PORT"; }
wait_for smtp_ready || { tail -n 30 "$WORK/aiosmtpd.log" >&2; exit 1; }
export CCP_TEST_SMTP_ADDR="127.0.0.1:$SMTP_PORT"
export CCP_TEST_SMTP_MAILDIR="$WORK/mail"

# Tests that need a server fail (instead of skipping) when it is missing here.
export CCP_REQUIRE_SERVERS=1

# Arguments select tests (`tests/run.sh --test real_chain`); without any, everything runs.
if [ $# -eq 0 ]; then set -- --workspace --all-targets; fi
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --no-fail-fast "$@"
else
  cargo test --no-fail-fast "$@"
fi
