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
. "$(dirname "$0")/apt_install.sh"
apt_install fashion-mnist /tmp/pixinfo-apt.log dataset-fashion-mnist \
  || echo "fashion-mnist: not installed; fashion-mnist tests will be skipped (docs/api/data.md: use your own copy)"
exit 0
