#!/usr/bin/env bash
# Install the Debian packages cairn builds with (and, with --test, the
# ones its tests need).  Skips apt when everything is there already.
set -euo pipefail

packages=(build-essential cmake pkg-config libcurl4-openssl-dev libssl-dev
  libsqlite3-dev libjansson-dev libyaml-dev libexpat1-dev libsodium-dev
  python3 curl ca-certificates)
if [ "${1:-}" = "--test" ]; then
  packages+=(libcmocka-dev valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi
