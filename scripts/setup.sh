#!/usr/bin/env bash
# Idempotent set-up: install what is missing (Debian packages, the project venv), nothing else.
# Usage: bash scripts/setup.sh   (TD_SKIP_APT=1 skips the apt step; TD_EXTRAS=test,boards leaves out TensorFlow and
# the quantizer)
set -euo pipefail
cd "$(dirname "$0")/.."

# Every package whose files the demo, the tests or the firmware builds use (`dpkg -S FILE` names them);
# `tinydeploy doctor` (run last) checks each part by using it.
APT_PACKAGES=(gcc g++ make git rsync python3-venv qemu-system-arm qemu-system-misc
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf simavr libsimavr-dev gcc-avr avr-libc
  arduino arduino-builder socat unzip gcc-xtensa-lx106 tmux ser2net)

if [ "${TD_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.tinydeploy-setup
want="$(sha256sum pyproject.toml | cut -c1-16) ${TD_EXTRAS:-test,boards,train,quantize}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -e ".[${TD_EXTRAS:-test,boards,train,quantize}]"
  echo "$want" > "$stamp"
fi
# PlatformIO works offline only with a private core dir whose tool-scons is seeded from pip's scons
if [ -f tinydeploy/pio.py ]; then
  .venv/bin/python -m tinydeploy.pio prepare .pio-core >/dev/null
fi
# check every part by using it (compilers, emulators, PlatformIO offline, arduino-builder): a gap stops
# set-up here with the command that fixes it, instead of showing up later as red tests
.venv/bin/tinydeploy doctor --quiet
echo "setup: ok"
