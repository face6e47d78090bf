#!/usr/bin/env bash
# The one test command. Installs what the tests need on a fresh machine, starts the real servers
# they talk to on loopback ports (later issues add Redis, Prometheus, Alertmanager, a Bolt server
# and SMTP here), runs every test, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need_apt[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Tests write state (audit logs) only under temporary directories; keep the user's state dir out.
export CCP_STATE_DIR="$(mktemp -d)"
trap 'rm -rf "$CCP_STATE_DIR"' EXIT

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast "$@"
else
  cargo test --all-targets --no-fail-fast "$@"
fi
