#!/bin/sh
# Installs the Debian packages dashspec needs to build and test, when missing.
# Quiet when everything is there; needs root (or sudo) otherwise.
set -e
need=""
for p in gcc make pkg-config libsqlite3-dev libyaml-dev libcjson-dev libpq-dev postgresql check sqlite3 python3 valgrind; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
done
[ -z "$need" ] && exit 0
echo "deps: installing:$need" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
