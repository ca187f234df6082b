#!/usr/bin/env bash
# Installs the Debian package dataset-fashion-mnist (IDX files in
# /usr/share/datasets/fashion-mnist) when apt is usable. Never fails the setup:
# without it, `pixinfo score --dataset fashion-mnist` explains how to get the data.
set -u
dir=/usr/share/datasets/fashion-mnist
if [ -f "$dir/train-images-idx3-ubyte.gz" ]; then
  echo "fashion-mnist: found in $dir"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "fashion-mnist: apt-get not available; see docs/api/data.md to use your own copy"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "fashion-mnist: not root and no passwordless sudo; run: sudo apt-get install dataset-fashion-mnist"
  exit 0
fi
echo "fashion-mnist: installing the Debian package dataset-fashion-mnist"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist; } >/tmp/pixinfo-apt.log 2>&1; then
  echo "fashion-mnist: apt-get install failed (log: /tmp/pixinfo-apt.log); fashion-mnist tests will be skipped"
fi
exit 0
