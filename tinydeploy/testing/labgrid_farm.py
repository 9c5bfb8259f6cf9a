"""A whole labgrid farm on this machine, for tests (and for trying labgrid out): labgrid-coordinator on
127.0.0.1, one emulator bench per board (tinydeploy.hil.bench), labgrid-exporter exporting their serial
ports (ser2net) and flash controls, and one place per bench tagged with its board.

    with LoopbackFarm(workdir, ["qemu-m4", "qemu-m4"]) as farm:   # places bench-0, bench-1
        pytest --board labgrid:board=qemu-m4 --labgrid-coordinator {farm.coordinator} -n 2
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import TinyDeployError


def exporter_config(benches: dict[str, dict], host: str = "127.0.0.1") -> str:
    """labgrid-exporter YAML for benches {group: {"pty": …, "control_port": …, "board": …}}."""
    lines = []
    for group, b in benches.items():
        lines += [f"{group}:",
                  "  RawSerialPort:", f"    port: {b['pty']}", "    speed: 115200",
                  "  TinydeployEmulator:", f"    host: {host}", f"    port: {b['control_port']}",
                  f"    board: {b['board']}"]
    return "\n".join(lines) + "\n"


class LoopbackFarm:
    """The farm's processes (coordinator, benches, exporter) and places bench-0, bench-1, …; a context manager."""

    def __init__(self, workdir: Path, boards: list[str], exporter_name: str = "loopback") -> None:
        self.workdir, self.boards, self.exporter_name = Path(workdir), list(boards), exporter_name
        self.procs: list[Any] = []
        self.coordinator = ""
        self.places: list[str] = []
        self.benches: dict[str, dict] = {}

    def _bin(self, name: str) -> str:
        exe = Path(sys.executable).with_name(name)
        return str(exe) if exe.exists() else (shutil.which(name) or name)

    def _spawn(self, cmd: list[str], log: str, **kw):
        f = open(self.workdir / log, "wb")
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=self.workdir, start_new_session=True, **kw)
        f.close()
        self.procs.append(p)
        return p

    def client(self, *args: str) -> str:
        r = subprocess.run([self._bin("labgrid-client"), "-x", self.coordinator, *args], capture_output=True,
                           text=True, timeout=60, cwd=self.workdir)
        if r.returncode:
            raise TinyDeployError(f"labgrid-client {' '.join(args)} failed: {(r.stderr or r.stdout).strip()[-500:]}")
        return r.stdout

    def _wait_log(self, log: str, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        path = self.workdir / log
        while time.monotonic() < deadline:
            got = path.read_text(errors="replace") if path.exists() else ""
            if text in got:
                return got
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.1)
        raise TinyDeployError(f"{log}: no {text!r} within {timeout:g} s", (path.read_text(errors="replace")
                                                                          if path.exists() else "")[-800:])

    def start(self) -> "LoopbackFarm":
        from ..target import free_port

        self.workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.coordinator = f"127.0.0.1:{port}"
        self._spawn([self._bin("labgrid-coordinator"), "-l", self.coordinator], "coordinator.log")
        for i, board in enumerate(self.boards):
            self._spawn([sys.executable, "-m", "tinydeploy.hil.bench", "--board", board],
                        f"bench-{i}.log")
        for i in range(len(self.boards)):
            line = self._wait_log(f"bench-{i}.log", "control_port").strip().splitlines()[-1]
            self.benches[f"bench-{i}"] = json.loads(line)
        self._wait_log("coordinator.log", "Coordinator ready")
        (self.workdir / "exporter.yaml").write_text(exporter_config(self.benches))
        self._spawn([self._bin("labgrid-exporter"), "-c", self.coordinator, "-n", self.exporter_name,
                     "--hostname", "127.0.0.1", str(self.workdir / "exporter.yaml")], "exporter.log")
        self._wait_log("exporter.log", "Exporter ready")
        for group, b in self.benches.items():
            self.client("-p", group, "create")
            self.client("-p", group, "add-match", f"{self.exporter_name}/{group}/*")
            self.client("-p", group, "set-tags", f"board={b['board']}")
            self.places.append(group)
        # the exporter's resources reach the coordinator asynchronously: wait until every place matches
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            out = self.client("resources")
            if all(f"{self.exporter_name}/{g}/NetworkSerialPort" in out for g in self.benches):
                break
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        for p in reversed(self.procs):  # exporter first (it stops ser2net), then benches, coordinator
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=10)
                except (ProcessLookupError, PermissionError):
                    pass
                except Exception:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        self.procs.clear()

    def __enter__(self) -> "LoopbackFarm":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
