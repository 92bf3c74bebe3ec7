#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing (Playwright drives it;
# Playwright's own browser download cannot work on machines without internet access).
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
echo "Installing Debian's chromium for the browser tests …"
if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
