#!/usr/bin/env bash
# Installs the Debian package chromium (a headless browser for `make docs-check`, which renders
# the built docs site) when apt is usable. Never fails the setup: without a browser, the rendering
# checks are skipped with a message and only the link check runs.
set -u
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "chromium: found $(command -v "$name")"
    exit 0
  fi
done
. "$(dirname "$0")/apt_install.sh"
apt_install chromium /tmp/pixinfo-apt-chromium.log chromium fonts-dejavu-core \
  || echo "chromium: not installed; the docs-site rendering checks will be skipped"
exit 0
