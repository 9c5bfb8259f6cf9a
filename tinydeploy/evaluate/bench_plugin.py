"""Exact instruction counts on QEMU: a small TCG plugin, compiled here with the host gcc.

No qemu-plugin.h is installed, so the plugin declares the few functions of QEMU's plugin API (version 1,
QEMU 7.2) it uses. It counts every executed translation block's instructions (the block's size in
instructions, added when the block runs; QEMU takes interrupts between blocks, and with -icount a block
is cut where the interrupt falls, so the sum is exact) and writes to its own file:

    I <n>     one call of the invoke function: from its first instruction to its return, inclusive.
              The return address is the end of the block that called it (a call ends a block).
    M <n>     a block at the marker function started: the running count without the marker's own
              instructions (per-layer builds call the marker between ops).

    plugin = plugin_library()                                     # cached .so
    args = plugin_args(plugin, out, invoke=0x1234, mark=(0x2000, 0x2010))
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import TinyDeployError
from ..paths import cache_dir

PLUGIN_C = r"""
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts of qemu-plugin.h (QEMU 7.2, plugin API version 1) this plugin uses. */
typedef uint64_t qemu_plugin_id_t;
typedef struct {
  const char *target_name;
  struct { int min; int cur; } version;
  bool system_emulation;
  union { struct { int smp_vcpus; int max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

typedef struct { uint64_t vaddr, end; uint32_t n; bool in_mark; } block;

static FILE *out;
static uint64_t invoke_at, mark_lo, mark_hi; /* 0: none */
static uint64_t count, mark_count, start, ret_at, last_end;
static bool armed;

static void on_exec(unsigned int vcpu, void *userdata) {
  const block *b = userdata;
  (void)vcpu;
  if (armed && b->vaddr == ret_at) { /* back in the caller: the invoke is complete */
    fprintf(out, "I %" PRIu64 "\n", count - start);
    fflush(out);
    armed = false;
  }
  if (b->vaddr == invoke_at) {
    start = count;
    ret_at = last_end;
    armed = true;
  }
  if (mark_lo && b->vaddr == mark_lo) {
    fprintf(out, "M %" PRIu64 "\n", count - mark_count);
    fflush(out);
  }
  count += b->n;
  if (b->in_mark) mark_count += b->n;
  last_end = b->end;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  block *b = calloc(1, sizeof *b); /* one per translation; QEMU keeps few retranslations */
  struct qemu_plugin_insn *last;
  (void)id;
  if (!b || n == 0) return;
  last = qemu_plugin_tb_get_insn(tb, n - 1);
  b->vaddr = qemu_plugin_tb_vaddr(tb);
  b->end = qemu_plugin_insn_vaddr(last) + qemu_plugin_insn_size(last);
  b->n = (uint32_t)n;
  b->in_mark = mark_lo && b->vaddr >= mark_lo && b->vaddr < mark_hi;
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  fprintf(out, "T %" PRIu64 "\n", count);
  fclose(out);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
  const char *path = NULL;
  (void)info;
  for (int i = 0; i < argc; i++) {
    if (!strncmp(argv[i], "out=", 4)) path = argv[i] + 4;
    else if (!strncmp(argv[i], "invoke=", 7)) invoke_at = strtoull(argv[i] + 7, NULL, 0);
    else if (!strncmp(argv[i], "mark=", 5)) mark_lo = strtoull(argv[i] + 5, NULL, 0);
    else if (!strncmp(argv[i], "mark_end=", 9)) mark_hi = strtoull(argv[i] + 9, NULL, 0);
  }
  if (!path || !(out = fopen(path, "w"))) return -1;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
"""


def plugin_library() -> Path:
    """The plugin .so, built once per source into the cache with the host gcc."""
    key = hashlib.sha256(PLUGIN_C.encode()).hexdigest()[:16]
    lib = cache_dir() / "qemu-plugin" / key / "libtdcount.so"
    if lib.exists():
        return lib
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise TinyDeployError("no host C compiler for the QEMU counting plugin", "apt-get install gcc")
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="td-plugin-", dir=lib.parent) as tmp:
        src, so = Path(tmp) / "tdcount.c", Path(tmp) / "libtdcount.so"
        src.write_text(PLUGIN_C)
        r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-o",
                            str(so), str(src)], capture_output=True, text=True)
        if r.returncode:
            raise TinyDeployError("building the QEMU counting plugin failed", r.stderr[-1500:])
        os.replace(so, lib)
    return lib


def plugin_args(out: Path, invoke: int, mark: tuple[int, int] | None = None) -> list[str]:
    """QEMU arguments that load the plugin (counts into `out`)."""
    opts = [str(plugin_library()), f"out={out}", f"invoke={invoke:#x}"]
    if mark:
        opts += [f"mark={mark[0]:#x}", f"mark_end={mark[1]:#x}"]
    return ["-plugin", ",".join(opts)]


def read_counts(out: Path) -> tuple[list[int], list[int]]:
    """(instructions of each invoke, marker counts) from the plugin's file."""
    invokes, marks = [], []
    text = out.read_text() if out.exists() else ""
    for line in text.splitlines():
        kind, _, value = line.partition(" ")
        if kind == "I":
            invokes.append(int(value))
        elif kind == "M":
            marks.append(int(value))
    return invokes, marks
