#!/usr/bin/env bash
# Idle CPU and memory of the cockpit: open it in a tmux pane at instant pace, let the pipeline
# reach PAUSED_FOR_HUMAN_REVIEW (no events arrive while it waits), then sample the process for
# SECONDS. Baseline in the same run: RSS of the same binary doing `ccp config check`.
# Usage: benches/cockpit_idle.sh [SECONDS] [COLSxROWS]   (needs tmux; build --release first)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
size=${2:-200x60}
bin=target/release/ccp
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
state=$(mktemp -d)
sock="ccp-idle-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$state"' EXIT
tmux -L "$sock" -f /dev/null new-session -d -s idle -x "${size%x*}" -y "${size#*x}" \
  "CCP_STATE_DIR=$state $bin demo --pace instant; sleep 600"
for _ in $(seq 1 120); do
  tmux -L "$sock" capture-pane -p -t idle | grep -q "Approval required" && break
  sleep 0.5
done
pid=$(pgrep -n -f "$bin demo --pace instant")
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks); sleep "$secs"; t1=$(ticks)
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$secs" 'BEGIN{printf "%.3f", (b-a)/hz/s*100}')
rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
base=$( { /usr/bin/time -f "%M" "$bin" config check config/ccp.yaml >/dev/null; } 2>&1 | tail -1)
echo "cockpit idle at $size for ${secs}s: cpu ${cpu}% of one core"
echo "rss now ${rss} KiB, peak ${hwm} KiB; baseline (ccp config check) peak ${base} KiB; ratio $(awk -v a="$hwm" -v b="$base" 'BEGIN{printf "%.2f", a/b}')"
