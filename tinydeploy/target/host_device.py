"""The host 'board': the device protocol firmware built for this machine, served on a TCP port."""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ..compile import CompiledModel
from ..errors import TinyDeployError
from ..paths import DEVICE_SKETCH_DIR as SKETCH_DIR
from ..paths import RUNTIME_DIR, cache_dir
from .protocol_firmware import TrainFirmware, glue_source, train_glue_source
from .host import WARN_FLAGS, host_compiler


def build_host_device(m: CompiledModel, defines: dict[str, str] | None = None,
                      train: TrainFirmware | None = None) -> Path:
    """Compile model + runtime + glue + sketches/device/host_device.c into a cached executable.
    `defines`: extra -D macros (tests: e.g. another TD_PROTO_VERSION). `train`: the training flavour
    (its model replaces m; see protocol_firmware)."""
    cc = host_compiler()
    extra = [f"-D{k}={v}" for k, v in sorted((defines or {}).items())]
    if train is not None:
        m = train.model
        extra += [f"-D{m.prefix.upper()}_TRAIN_NO_STATIC_BUFFER", "-ffp-contract=off"]
    source = train.source if train else m.source
    glue = train_glue_source(train, "host") if train else glue_source(m, "host")
    parts = [source, m.header, glue, (SKETCH_DIR / "host_device.c").read_text()] + \
        [p.read_text() for p in sorted(RUNTIME_DIR.glob("*.[ch]"))] + extra
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]
    exe = cache_dir() / "host-device" / key / "device"
    if exe.exists():
        return exe
    with tempfile.TemporaryDirectory(prefix="td-dev-") as tmp:
        t = Path(tmp)
        (t / f"{m.prefix}.h").write_text(m.header)
        (t / f"{m.prefix}.c").write_text(source)
        (t / "glue.c").write_text(glue)
        if train is not None:
            (t / f"{m.prefix}_train.h").write_text(train.train_header)
        srcs = [t / f"{m.prefix}.c", t / "glue.c", SKETCH_DIR / "host_device.c", *sorted(RUNTIME_DIR.glob("*.c"))]
        arena = [] if train is not None else [f"-D{m.prefix.upper()}_NO_STATIC_ARENA"]  # the step defines it
        flags = [f for f in WARN_FLAGS if f != "-std=c99"] + ["-std=gnu99", "-O2", "-DTD_BOARD_COUNTER_UNIT=2",
                                                            *arena, *extra]
        r = subprocess.run([cc, *flags, f"-I{t}", f"-I{RUNTIME_DIR}", f"-I{SKETCH_DIR}", *map(str, srcs),
                            "-o", str(t / "device"), "-lm"], capture_output=True, text=True)
        if r.returncode:
            raise TinyDeployError(f"building the host device failed:\n{r.stderr[-3000:]}")
        exe.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(t / "device", exe.with_suffix(".tmp"))
        os.replace(exe.with_suffix(".tmp"), exe)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HostDevice:
    """A running host device process; `url` is what pyserial opens. Restartable (a 'reset')."""

    def __init__(self, exe: Path, port: int | None = None) -> None:
        self.exe, self.port = exe, port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def start(self) -> "HostDevice":
        self.proc = subprocess.Popen([str(self.exe), str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening"):
            self.stop()
            raise TinyDeployError(f"host device did not start: {line.strip()}")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def reset(self) -> None:
        """Like pressing reset: the process restarts with empty memory on the same port."""
        self.stop()
        time.sleep(0.05)
        self.start()

    def __enter__(self) -> "HostDevice":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
