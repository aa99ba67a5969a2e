#!/usr/bin/env bash
# System packages the application needs at run time; installs only what is missing.
set -euo pipefail
exit 0
