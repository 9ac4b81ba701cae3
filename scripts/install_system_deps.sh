#!/usr/bin/env bash
# Installs the Debian packages the report needs, only those that are missing.
#   fonts-noto-cjk        Noto Sans CJK TC: Traditional Chinese in charts and PDF
#   libharfbuzz-subset0   lets WeasyPrint subset the 20 MB CJK font in ~0.3 s instead of 10-15 s
#   libpango-1.0-0, libpangoft2-1.0-0   WeasyPrint's text layout
#   postgresql            the test suite starts its own PostgreSQL server (temporary data directory and port)
#                         to test database sources; reports themselves never need it
set -euo pipefail
packages=(fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
