#!/bin/sh
# Installs the default policy unless one is already there (meson install would overwrite it).
set -eu
src=$1 dir=$2
case $dir in /*) ;; *) dir=$MESON_INSTALL_PREFIX/$dir ;; esac
dest=${DESTDIR:-}$dir/virtune.conf
mkdir -p "${DESTDIR:-}$dir/virtune.conf.d"
if [ -e "$dest" ]; then
        echo "Keeping existing $dest (new default: $src)"
else
        install -m 0644 "$src" "$dest"
        echo "Installing $src to $dest"
fi
