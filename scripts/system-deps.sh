#!/usr/bin/env bash
# System packages the application needs at run time; installs only what is missing.
# Fonts for the customs documents (marketplace/customs/documents/fonts.py names the files):
# DejaVu Sans for Latin, Cyrillic and Arabic, WenQuanYi Micro Hei for Chinese.
set -euo pipefail

PACKAGES=(fonts-dejavu-core fonts-wqy-microhei)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: install these packages (or their fonts) by hand: ${missing[*]}" >&2
  echo "  (the app looks in /usr/share/fonts and the folders named by DOCUMENT_FONT_DIRS)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
