#!/bin/sh
# ensure-deps.sh - find ckpt's build dependencies with pkg-config; install the
# missing Debian packages when we are root and apt-get exists, else print the
# exact command and fail.
#   env: CKPT_MODULES="zlib libcrypto ..." CKPT_PACKAGES="zlib:zlib1g-dev ..."
#   args: extra commands that must exist (e.g. clang), installed as packages
#         of the same name.
set -u
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
missing=""
if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
    missing="pkg-config"
fi
for pair in ${CKPT_PACKAGES:-}; do
    mod=${pair%%:*}; pkg=${pair#*:}
    if ! command -v "$PKG_CONFIG" >/dev/null 2>&1 || ! "$PKG_CONFIG" --exists "$mod"; then
        missing="$missing $pkg"
    fi
done
for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
[ -z "$missing" ] && exit 0

echo "ckpt: missing build dependencies:$missing" >&2
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ckpt: installing them with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if apt-get install -y -q $missing >&2 || { apt-get update -q >&2 && apt-get install -y -q $missing >&2; }; then
        exit 0
    fi
    echo "ckpt: apt-get failed" >&2
fi
echo "ckpt: please run:  sudo apt-get install$missing" >&2
exit 1
