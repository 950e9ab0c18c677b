#!/bin/sh
# copy-source.sh SRC DEST: the source tree without build directories or git metadata (what a
# release tarball would hold), for package builds that must not touch the real tree.
set -eu
mkdir -p "$2"
tar -C "$1" --exclude='./build*' --exclude='./.git' --exclude='./obj-*' --exclude='./subprojects/packagecache' \
        -cf - . | tar -C "$2" -xf -
