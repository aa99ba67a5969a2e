#!/usr/bin/env bash
# System packages the application needs at run time; installs only what is missing.
# Fonts for the customs documents (marketplace/customs/documents/fonts.py names the files):
# DejaVu Sans for Latin, Cyrillic and Arabic, WenQuanYi Micro Hei for Chinese.
set -euo pipefail

PACKAGES=(fonts-dejavu-core fonts-wqy-microhei)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: not a Debian-like system; make sure these fonts are installed: ${PACKAGES[*]}" >&2
  echo "  (the app searches the usual font folders and DOCUMENT_FONT_DIRS, and says what is missing)" >&2
  exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: install these packages by hand: ${missing[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
