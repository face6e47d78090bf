#!/usr/bin/env bash
# The one test command. Installs what the tests need on a fresh machine, starts the real servers
# they talk to on loopback ports (Redis today; later issues add Prometheus, Alertmanager, a Bolt
# server and SMTP here), runs every test, and stops what it started, even when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Python packages the interoperability tests use (redis-py's Lock), in a venv under target/ so the
# system Python is left alone.
VENV="$PWD/target/test-venv"
if ! "$VENV/bin/python" -c 'import redis' >/dev/null 2>&1; then
  echo "tests/run.sh: creating $VENV (redis-py)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'redis==8.1.0'
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

# Wait until `$@` succeeds (a server answering), at most ~10 s.
wait_for() {
  for _ in $(seq 1 100); do
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
# Tests that need a server fail (instead of skipping) when it is missing here.
export CCP_REQUIRE_SERVERS=1

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast "$@"
else
  cargo test --all-targets --no-fail-fast "$@"
fi
