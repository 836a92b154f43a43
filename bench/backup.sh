#!/usr/bin/env bash
# Accepts while backups run (issue #18, item 2). Usage: bench/backup.sh
# One database is filled with PREFILL of full-rate accepts; each round serves a copy of it and
# measures DURATION of full-rate accepts (wrk, CONNS connections) while, back to back:
#   none      nothing else runs (the baseline);
#   bluegate  `bluegate backup` runs (one snapshot, under the backup lock);
#   sqlite3   the sqlite3 shell's `.backup` runs (one snapshot, without the lock: the checkpointer
#             waits on its reader, holding writes, each round past store.wal_max_bytes).
# Prints accepts/s, the 99th percentile and the slowest accept, the backups made (and their mean
# duration) and the largest WAL. GAP (default 0) sleeps between backups;
# BACKUP_DIR (default: beside the data) is where the backups are written.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BLUEGATE_BIN:-build/bluegate}
DURATION=${DURATION:-20s}
PREFILL=${PREFILL:-15s}
CONNS=${CONNS:-64}
PORT=${PORT:-18490}
ROUNDS=${ROUNDS:-none bluegate sqlite3}
GAP=${GAP:-0}
NICE=${NICE:-}  # e.g. "nice -n 19": the backups at the lowest CPU priority
LINES="+14155550100,+14155550111,+14155550122,+14155550133"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (make bench installs it)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: apt-get install sqlite3"; exit 1; }

work=$(mktemp -d /tmp/bluegate-bench-backup-XXXXXX)
server_pid=""
loop_pid=""
cleanup() {
  [ -n "$loop_pid" ] && { touch "$work/stop"; wait "$loop_pid" 2>/dev/null; } || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"; rm -f "$BACKUP_TO"
}
trap cleanup EXIT
BACKUP_TO=${BACKUP_DIR:-$work}/bluegate-bench.bgbackup  # BACKUP_DIR: another disk, or /dev/shm

cat > "$work/bench.toml" <<TOML
bootstrap = false
[lines]
burst_per_second = 0
new_contacts_per_day = 0
new_contacts_per_hour = 0
queue_capacity = 1000000
resolve_timeout = "10m"
[sim]
sent_delay = 0
delivered_delay = 0
read_delay = 0
slow_delay = 0
reply_delay = 0
TOML

start_server() {  # start_server DIR
  "$BIN" serve --config "$work/bench.toml" --data-dir "$1" --listen "127.0.0.1:$PORT" > "$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.05; done
  echo "server did not start"; cat "$1.log"; exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
load() {  # load DURATION → wrk's report
  KEY=benchkey SECRET=benchsecret LINES=$LINES wrk -t2 -c"$CONNS" -d"$1" --latency -s bench/send.lua \
    "http://127.0.0.1:$PORT"
}

# backup_loop COMMAND... runs COMMAND back to back (GAP apart) until $work/stop exists, writing
# each run's seconds to $work/backups-$round.
backup_loop() {
  while [ ! -e "$work/stop" ]; do
    rm -f "$BACKUP_TO"
    local t0; t0=$(date +%s.%N)
    "$@" >/dev/null
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }' >> "$work/backups-$round"
    sleep "$GAP"
  done
}

seed="$work/seed"
"$BIN" accounts create --email bench@example.com --key-id benchkey --secret benchsecret --data-dir "$seed" >/dev/null
for l in ${LINES//,/ }; do "$BIN" lines add --account bench@example.com --number "$l" --data-dir "$seed" >/dev/null; done
start_server "$seed"
load "$PREFILL" >/dev/null
stop_server
echo "== accepts while backups run: $CONNS connections, $DURATION per round, a database of $(( $(stat -c %s "$seed/bluegate.db") / 1048576 )) MB ($PREFILL of accepts)"

backups() {  # backups FILE → "N backups (S s each)"
  awk '{ n++; t += $1 } END { if (n) printf "%d backups (%.2f s each)", n, t / n; else print "no backups" }' "$1"
}
for round in $ROUNDS; do
  data="$work/data-$round"
  rm -rf "$data"; cp -a "$seed" "$data"; rm -f "$data/serve.lock"
  start_server "$data"
  ( while kill -0 "$server_pid" 2>/dev/null; do stat -c %s "$data/bluegate.db-wal" 2>/dev/null || echo 0; sleep 0.2; done ) > "$work/wal-$round" &
  sampler=$!
  : > "$work/backups-$round"
  rm -f "$work/stop"
  case $round in
    none) ;;
    bluegate) backup_loop $NICE "$BIN" backup --data-dir "$data" --to "$BACKUP_TO" & loop_pid=$! ;;
    sqlite3) backup_loop sqlite3 "$data/bluegate.db" ".backup '$BACKUP_TO'" & loop_pid=$! ;;
  esac
  load "$DURATION" > "$work/wrk-$round"
  touch "$work/stop"  # the backup under way finishes before the server stops
  [ -n "$loop_pid" ] && { wait "$loop_pid" || true; loop_pid=""; }
  stop_server
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  rate=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk-$round")
  p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk-$round")
  max=$(awk '$1 == "Latency" { print $4 }' "$work/wrk-$round")
  echo "-- $round: $rate accepts/s; p99 $p99; slowest $max; $(backups "$work/backups-$round"); largest WAL $(( $(sort -n "$work/wal-$round" | tail -1) / 1048576 )) MB"
  rm -rf "$data"
done
