"""HIL tests on the places of a labgrid board farm (coordinator, exporters, places).

    pytest --board labgrid:bench-a                 # that place
    pytest --board "labgrid:bench-*" -n 4          # any free place whose name matches, one per worker
    pytest --board labgrid:board=nucleo_f446re -n 4  # any free place with that tag

For each worker, LabgridTarget acquires a place through the coordinator (--labgrid-coordinator, or
$LG_COORDINATOR), reads its tag `board=<profile id>` (which board profile to build for), builds the
protocol firmware, flashes it with the place's flashing driver and talks to the place's
NetworkSerialPort (ser2net, exported by labgrid-exporter) over RFC 2217; at the end it releases the
place. Real places flash with labgrid's own drivers: give a labgrid environment file
(--labgrid-env / $LG_ENV) whose target for the place has a BootstrapProtocol driver (OpenOCDDriver, …)
or a FlashScriptDriver. Emulated places export a `TinydeployEmulator` (tinydeploy.hil.labgrid_driver):
"flash" sends the ELF to the place's emulator bench (tinydeploy.hil.bench).
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import time
from pathlib import Path
from typing import Any

from ..errors import TinyDeployError
from .labgrid_driver import TinydeployEmulator, TinydeployEmulatorDriver
from .targets import Target, Unavailable, project_dir_for

DEFAULT_COORDINATOR = "127.0.0.1:20408"


class LabgridTarget(Target):
    """One place of a labgrid farm, acquired for this worker's session and released at its end."""

    def __init__(self, spec: str, coordinator: str | None = None, build_dir: Path | None = None,
                 timeout: float = 5.0, wait: float = 300.0, worker: str = "main", env_file: str | None = None) -> None:
        from ..paths import cache_dir

        self.spec = spec
        self.coordinator = coordinator or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
        self.build_dir = Path(build_dir) if build_dir else cache_dir() / "hil"
        self.timeout, self.wait, self.worker = timeout, wait, worker
        self.env_file = env_file or os.environ.get("LG_ENV")
        self.current = None
        self.needs_reset = False
        self.session = None
        self.place = None
        self.target = None
        self.label = f"labgrid:{spec}"
        self._acquire()

    # places
    def _session(self):
        from labgrid.remote.client import start_session

        os.environ["LG_COORDINATOR"] = self.coordinator  # RemotePlace resolves the coordinator from here
        try:
            return start_session(self.coordinator)
        except Exception as exc:
            raise Unavailable(f"no labgrid coordinator at {self.coordinator}: {exc}") from None

    def _candidates(self) -> list[Any]:
        places = self.session.places
        if "=" in self.spec:
            k, v = self.spec.split("=", 1)
            return [p for _, p in sorted(places.items()) if p.tags.get(k) == v]
        return [p for n, p in sorted(places.items()) if fnmatch.fnmatchcase(n, self.spec)]

    def _acquire(self) -> None:
        self.session = self._session()
        s = self.session
        deadline = time.monotonic() + self.wait
        while True:
            cands = self._candidates()
            if not cands:
                self._close_session()
                raise Unavailable(f"no labgrid place matches {self.spec!r} on {self.coordinator}")
            for p in cands:
                if p.acquired:
                    continue
                s.args = argparse.Namespace(place=p.name, allow_unmatched=False, kick=False)
                try:
                    s.loop.run_until_complete(s.acquire())
                except Exception:  # another worker was faster: try the next place
                    continue
                self.place = p.name
                break
            if self.place:
                break
            if time.monotonic() > deadline:
                self._close_session()
                raise Unavailable(f"every labgrid place matching {self.spec!r} stayed busy for {self.wait:g} s")
            time.sleep(0.5)
            s.loop.run_until_complete(s.sync_with_coordinator())
        try:
            tags = dict(s.places[self.place].tags)
            board = tags.get("board")
            if not board:
                raise Unavailable(f"labgrid place {self.place} has no tag board=<profile id> "
                                  f"(labgrid-client -p {self.place} set-tags board=nucleo_f446re)")
            from ..target import load_board

            self.profile = load_board(board)
            self.label = f"{self.profile.id}@{self.place}"
            self.target = self._make_target()
        except BaseException:
            self._release()
            raise

    def _make_target(self):
        if self.env_file:
            from labgrid import Environment

            env = Environment(self.env_file)
            for name in env.config.get_targets():
                t = env.get_target(name)
                if t is not None and any(getattr(r, "name", None) == self.place for r in t.resources):
                    return t
        from labgrid import Target as LgTarget
        from labgrid.resource.remote import RemotePlace, RemotePlaceManager

        # RemotePlace would open a second coordinator session; gRPC shares the connection between the
        # two and the coordinator refuses a second client stream from one peer: lend it ours
        mgr = RemotePlaceManager.get()
        if mgr.session is None:
            mgr.session, mgr.loop, mgr.env = self.session, self.session.loop, None
            mgr.url = self.coordinator
        t = LgTarget(self.place)
        RemotePlace(t, name=self.place)
        t.await_resources(t.resources, timeout=10.0)
        return t

    def _flash(self, firmware: Path) -> None:
        t = self.target
        try:
            emu = t.get_resource(TinydeployEmulator, wait_avail=False)
        except Exception:
            emu = None
        if emu is not None:
            try:
                drv = t.get_driver(TinydeployEmulatorDriver, activate=False)
            except Exception:
                drv = TinydeployEmulatorDriver(t, name=None)
            t.activate(drv)
            drv.load(str(firmware))
            return
        try:
            drv = t.get_driver("BootstrapProtocol")
            drv.load(str(firmware))
            return
        except Exception as exc:  # no such driver: try a flash script
            first = exc
        try:
            drv = t.get_driver("FlashScriptDriver")
        except Exception:
            raise TinyDeployError(f"labgrid place {self.place}: no way to flash it ({first})",
                                  "give --labgrid-env with a BootstrapProtocol driver (OpenOCDDriver, …) or a "
                                  "FlashScriptDriver for the place") from None
        drv.flash(args=[str(firmware)])

    def serial_url(self) -> str:
        from labgrid.resource.serialport import NetworkSerialPort

        r = self.target.get_resource(NetworkSerialPort)
        if r.protocol != "rfc2217":
            return f"socket://{r.host}:{r.port}"
        # ser2net cannot confirm flow-control settings on a pty (nor on some USB-UARTs): do not wait for it
        return f"rfc2217://{r.host}:{r.port}?ign_set_control"

    # the Target API
    def _open(self, model: Path, m: Any):
        """Build the firmware for the compiled model, flash it with the place's driver, connect over the
        place's serial port (RFC 2217)."""
        from ..link import BoardSession, DeviceClient
        from ..target import device_project, ensure_firmware

        b = self.profile
        pdir = project_dir_for(self.build_dir, model, b.id)  # shared with local runs of the same board
        if b.emulated:
            proj = ensure_firmware(model, b, pdir, options=m.options, compiled=m)
        else:
            from ..target import run_pio

            proj = device_project(model, b, pdir, options=m.options, compiled=m)
            run_pio(["run", "-e", b.id], proj.path, timeout=900)
        self._flash(proj.elf)
        url = self.serial_url()
        client = DeviceClient(url, [m.graph.tensors[t].nbytes for t in m.graph.outputs], baud=b.baud,
                              timeout=self.timeout, expect_sha256=m.graph.sha256)
        hello = client.connect(wait=20.0)
        return BoardSession(client, hello, m, model, url, b, None, proj)

    def _release(self) -> None:
        s = self.session
        if s is not None and self.place:
            s.args = argparse.Namespace(place=self.place, allow_unmatched=False, kick=False)
            try:
                s.loop.run_until_complete(s.release())
            except Exception:
                pass
            self.place = None
        self._close_session()

    def _close_session(self) -> None:
        s = self.session
        if s is not None:
            try:
                s.loop.run_until_complete(s.stop())
                s.loop.run_until_complete(s.close())
            except Exception:
                pass
            self.session = None

    def close(self) -> None:
        self.release_deployment()
        if self.target is not None:
            try:
                self.target.deactivate_all_drivers()
            except Exception:
                pass
        self._release()
