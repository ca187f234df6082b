# Sourced by the install_*.sh scripts. `apt_install NAME LOG PACKAGE...` installs Debian packages
# when apt-get is usable (root or passwordless sudo), logging to LOG; it says why when it cannot
# and returns non-zero, but never exits: a setup that lacks a package goes on without it.
apt_install() {
  local name=$1 log=$2 sudo
  shift 2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$name: apt-get not available"
    return 1
  fi
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "$name: not root and no passwordless sudo; run: sudo apt-get install $*"
    return 1
  fi
  echo "$name: installing the Debian package(s) $*"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    echo "$name: apt-get install failed (log: $log)"
    return 1
  fi
}
