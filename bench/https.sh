#!/usr/bin/env bash
# HTTP against HTTPS on one build (issue #18, item 1). Usage: bench/https.sh
# Serves the same data over plain HTTP, then over HTTPS (a fresh P-256 certificate), and measures
# with wrk (CONNS connections, DURATION each): GET /healthz and POST /api/send-message on
# kept-alive connections, then GET /healthz with a new connection per request (a TLS handshake
# each, ECDHE P-256 with TLS 1.3 as wrk's OpenSSL negotiates it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BLUEGATE_BIN:-build/bluegate}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
PORT=${PORT:-18491}
LINES="+14155550100,+14155550111,+14155550122,+14155550133"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (make bench installs it)"; exit 1; }
command -v openssl >/dev/null || { echo "openssl is missing: apt-get install openssl"; exit 1; }

work=$(mktemp -d /tmp/bluegate-bench-https-XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
base='bootstrap = false
[lines]
burst_per_second = 0
new_contacts_per_day = 0
new_contacts_per_hour = 0
queue_capacity = 1000000
[sim]
sent_delay = 0
delivered_delay = 0
read_delay = 0'
printf '%s\n' "$base" > "$work/http.toml"
printf '%s\n[tls]\ncert_file = "%s"\nkey_file = "%s"\n' "$base" "$work/cert.pem" "$work/key.pem" > "$work/https.toml"

data="$work/data"
"$BIN" accounts create --email bench@example.com --key-id benchkey --secret benchsecret --data-dir "$data" >/dev/null
for l in ${LINES//,/ }; do "$BIN" lines add --account bench@example.com --number "$l" --data-dir "$data" >/dev/null; done

rate() { awk '/Requests\/sec/ { printf "%d", $2 }'; }
echo "== HTTP against HTTPS: $CONNS connections, $DURATION each"
for scheme in http https; do
  "$BIN" serve --config "$work/$scheme.toml" --data-dir "$data" --listen "127.0.0.1:$PORT" > "$work/$scheme.log" 2>&1 &
  server_pid=$!
  url="$scheme://127.0.0.1:$PORT"
  for _ in $(seq 100); do curl -sfk "$url/healthz" >/dev/null && break; sleep 0.05; done
  wrk -t2 -c"$CONNS" -d3s "$url/healthz" >/dev/null  # warm up
  healthz=$(wrk -t2 -c"$CONNS" -d"$DURATION" "$url/healthz" | rate)
  accept=$(KEY=benchkey SECRET=benchsecret LINES=$LINES wrk -t2 -c"$CONNS" -d"$DURATION" -s bench/send.lua "$url" | rate)
  fresh=$(wrk -t2 -c"$CONNS" -d"$DURATION" -H "Connection: close" "$url/healthz" | rate)
  echo "-- $scheme: healthz $healthz/s; accept $accept/s; healthz with a new connection each $fresh/s"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
