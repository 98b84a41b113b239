#!/usr/bin/env bash
# Installs Emacs 30 (terminal build) from Debian 12's bookworm-backports into a private prefix,
# beside the system Emacs, so the Emacs package's tests can run on both. Nothing under /usr is
# replaced: the .deb files are unpacked with `dpkg -x`, and a wrapper, PREFIX/bin/emacs30, points
# the unpacked binary at its own Lisp, data and dump files.
#
# Usage: scripts/install-emacs30.sh [PREFIX]   (default /opt/caret-emacs30, or $CARET_EMACS30_PREFIX)
#   --force   reinstall even when PREFIX/bin/emacs30 already works
# Needs root for apt-get (the library dependencies come from bookworm itself).
# Afterwards: CARET_EMACS30=PREFIX/bin/emacs30 (the tests also look at the default prefix).
set -euo pipefail

force=0
args=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done
prefix="${args[0]:-${CARET_EMACS30_PREFIX:-/opt/caret-emacs30}}"
version='1:30.1+1-6~bpo12+1'
series='30.1'
wrapper="$prefix/bin/emacs30"

works() {
  [ -x "$wrapper" ] && "$wrapper" -Q --batch --eval '(princ emacs-version)' 2>/dev/null | grep -qx "$series"
}

if [ "$force" = 0 ] && works; then
  echo "emacs30: already installed at $wrapper ($("$wrapper" --version | head -n1))"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chown _apt "$work" 2>/dev/null || true # apt downloads as _apt where it can

# A sources list with only bookworm-backports, used for this download alone: the machine's own
# sources stay as they are, and its package lists are not pruned.
printf 'deb http://deb.debian.org/debian bookworm-backports main\n' > "$work/backports.list"
apt_backports=(-o "Dir::Etc::sourcelist=$work/backports.list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0)
apt-get update -qq "${apt_backports[@]}"
(cd "$work" && apt-get download -qq "${apt_backports[@]}" \
  "emacs-nox=$version" "emacs-bin-common=$version" "emacs-common=$version")

# The shared libraries emacs-nox links against all exist in bookworm: install them from there.
libs="$(dpkg-deb -f "$work"/emacs-nox_*.deb Depends | tr ',' '\n' \
  | sed -E 's/\(.*\)//; s/\|.*//; s/^ +//; s/ +$//' | grep -v '^emacs-' | grep -v '^$' | tr '\n' ' ')"
# shellcheck disable=SC2086 # a list of package names
apt-get install -y -qq --no-install-recommends $libs >/dev/null

# Unpack into a fresh tree, then swap it in, so a failed run never leaves a half-installed prefix.
mkdir -p "$prefix"
stage="$prefix/root.new"
rm -rf "$stage"
mkdir -p "$stage"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$stage"; done
rm -rf "$prefix/root"
mv "$stage" "$prefix/root"

root="$prefix/root"
missing="$(ldd "$root/usr/bin/emacs-nox" | grep 'not found' || true)"
if [ -n "$missing" ]; then
  echo "emacs30: the unpacked binary lacks libraries:" >&2
  echo "$missing" >&2
  exit 1
fi

mkdir -p "$prefix/bin"
cat > "$wrapper" <<EOF
#!/bin/sh
# Emacs $series unpacked by scripts/install-emacs30.sh; runs beside the system Emacs.
root='$root'
share="\$root/usr/share/emacs/$series"
libexec="\$root/usr/libexec/emacs/$series/x86_64-linux-gnu"
# Only this Emacs's own Lisp: the system site-lisp holds files byte-compiled for the system Emacs.
EMACSLOADPATH="\$share/site-lisp:\$share/lisp"
EMACSDATA="\$share/etc"
EMACSDOC="\$share/etc"
EMACSPATH="\$libexec"
export EMACSLOADPATH EMACSDATA EMACSDOC EMACSPATH
# The dump file is looked up where Debian installs it, so name it. The preloaded natively
# compiled files are found relative to the binary. Native compilation of anything else is
# turned off (no JIT compilation, no trampolines): it would need gcc at run time and write
# .eln files into the user's ~/.emacs.d.
exec "\$root/usr/bin/emacs-nox" --dump-file="\$(echo "\$libexec"/emacs-*.pdmp)" \\
  --eval '(setq native-comp-jit-compilation nil native-comp-enable-subr-trampolines nil)' "\$@"
EOF
chmod 755 "$wrapper"

if ! works; then
  echo "emacs30: $wrapper does not start; try: $wrapper -Q --batch --eval '(message emacs-version)'" >&2
  exit 1
fi
echo "emacs30: installed $("$wrapper" --version | head -n1) at $wrapper"
