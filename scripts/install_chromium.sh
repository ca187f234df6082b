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
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: apt-get not available; install Chromium or Chrome to render the docs site in make docs-check"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "chromium: not root and no passwordless sudo; run: sudo apt-get install chromium"
  exit 0
fi
echo "chromium: installing the Debian package chromium"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >/tmp/pixinfo-apt-chromium.log 2>&1; then
  echo "chromium: apt-get install failed (log: /tmp/pixinfo-apt-chromium.log); the docs-site rendering checks will be skipped"
fi
exit 0
