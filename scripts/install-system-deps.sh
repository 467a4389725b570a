#!/bin/sh
# Installs the system packages the native addon builds against (libbpf headers), when missing.
# The interpreter object vm/tapvm.bpf.o is committed, so clang is not needed to install.
if [ -f /usr/include/bpf/libbpf.h ] && [ -f /usr/include/libelf.h ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "tapvm: libbpf headers missing; run as root or: apt-get install libbpf-dev libelf-dev" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq libbpf-dev libelf-dev >/dev/null
