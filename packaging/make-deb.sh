#!/usr/bin/env bash
# Builds build/bluegate_<version>_<arch>.deb from a built tree: packaging/make-deb.sh [BUILD_DIR]
# (`make package` runs it). The package holds what `cmake --install --prefix /usr` installs,
# stripped, with the production configuration as a conffile, the hardened systemd unit, and the
# maintainer scripts that make the `bluegate` system user. Its Depends are the Debian packages
# that provide the libraries the binary links.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -x "$build/bluegate" ] || { echo "no $build/bluegate: run make build first"; exit 1; }
version=$(awk -F= '/^CMAKE_PROJECT_VERSION:/ { print $2 }' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
stage=$(mktemp -d "${TMPDIR:-/tmp}/bluegate-deb-XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"  # the package's root: mktemp makes it private

DESTDIR="$stage" cmake --install "$build" --prefix /usr --strip >/dev/null
mv "$stage/usr/etc" "$stage/etc"  # Debian keeps configuration in /etc, not PREFIX/etc
mkdir -p "$stage/DEBIAN"
install -m 0755 packaging/postinst packaging/prerm packaging/postrm "$stage/DEBIAN/"
echo /etc/bluegate/bluegate.toml > "$stage/DEBIAN/conffiles"

# The packages that hold the shared libraries the binary links directly (NEEDED); theirs follow.
paths=$(ldd "$stage/usr/bin/bluegate")
depends=$(objdump -p "$stage/usr/bin/bluegate" | awk '$1 == "NEEDED" { print $2 }' | while read -r soname; do
  lib=$(awk -v n="$soname" '$1 == n && $3 ~ /^\// { print $3 }' <<< "$paths")
  [ -n "$lib" ] || continue
  dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
installed=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)

cat > "$stage/DEBIAN/control" <<CONTROL
Package: bluegate
Version: $version
Architecture: $arch
Maintainer: bluegate maintainers <maintainers@bluegate.invalid>
Section: net
Priority: optional
Installed-Size: $installed
Depends: adduser, $depends
Homepage: https://github.com/bluegate/bluegate
Description: self-hosted iMessage and SMS gateway with a Sendblue-compatible API
 bluegate stores each message durably, queues it on its sending line, hands it to the line's
 carrier (a simulator, SMS over SMPP, iMessage through BlueBubbles), follows its status and
 reports every change by webhook. Programs written for Sendblue work against it by changing the
 base URL and keys.
CONTROL

out="$build/bluegate_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
