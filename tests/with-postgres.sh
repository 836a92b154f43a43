#!/usr/bin/env bash
# Runs a command beside a PostgreSQL server of its own: Debian's package, a fresh cluster made by
# initdb in a temporary directory, listening on a free loopback port (and a socket in that
# directory), run as an unprivileged user (`postgres` when started as root), torn down afterwards
# whatever the command's outcome. The command sees:
#   BLUEGATE_TEST_DATABASE_URL  postgresql://bluegate@127.0.0.1:PORT/bluegate
#   BLUEGATE_TEST_PG_CTL        a command that stops (`stop`) or starts (`start`) the same server
# BLUEGATE_PG_CONF, if set, is added to the server's postgresql.conf (e.g. shared_preload_libraries).
# Usage: tests/with-postgres.sh COMMAND [ARG...]
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 2
fi

dir=$(mktemp -d /tmp/bluegate-pg.XXXXXX)
as_user=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root.
  as_user=(runuser -u postgres --)
  chown postgres "$dir"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cleanup() {
  "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_user[@]}" "$bindir/initdb" -D "$dir/data" -U bluegate --auth=trust -E UTF8 --no-sync \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# Tests go for speed over durability: the data dies with the run anyway.
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
max_connections = 300
${BLUEGATE_PG_CONF:-}
CONF

ctl() {
  case "$1" in
    start) "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ;;
    stop) "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
  esac
}
ctl start || { cat "$dir/server.log" >&2; exit 1; }
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U bluegate bluegate

# A script the tests call to stop and start this server (PostgreSQL restarted under load).
cat >"$dir/ctl" <<CTL
#!/usr/bin/env bash
case "\$1" in
  start) ${as_user[*]} "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ;;
  stop) ${as_user[*]} "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
esac
CTL
chmod +x "$dir/ctl"

export BLUEGATE_TEST_DATABASE_URL="postgresql://bluegate@127.0.0.1:$port/bluegate"
export BLUEGATE_TEST_PG_CTL="$dir/ctl"
status=0
"$@" || status=$?
exit $status
