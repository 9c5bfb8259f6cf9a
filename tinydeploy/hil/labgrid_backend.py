"""labgrid backend: HIL tests on the places of a labgrid board farm (coordinator, exporters, places).

    pytest --board labgrid:bench-a                 # that place
    pytest --board "labgrid:bench-*" -n 4          # any free place whose name matches, one per worker
    pytest --board labgrid:board=nucleo_f446re -n 4  # any free place with that tag

For each worker the backend acquires a place through the coordinator (--labgrid-coordinator, or
$LG_COORDINATOR), reads its tag `board=<profile id>` (which board profile to build for), builds the
protocol firmware, flashes it with the place's flashing driver and talks to the place's
NetworkSerialPort (ser2net, exported by labgrid-exporter) over RFC 2217; at the end it releases the
place. Real places flash with labgrid's own drivers: give a labgrid environment file
(--labgrid-env / $LG_ENV) whose target for the place has a BootstrapProtocol driver
(OpenOCDDriver, …) or a FlashScriptDriver. Emulated places (the loopback farm of the tests, or a rack
of emulators on a server) export a `TinydeployEmulator` resource: "flash" sends the ELF to the bench
process that owns the emulated board (`python -m tinydeploy.hil.labgrid_backend bench`), which
restarts its emulator with it. The bench keeps one pseudo-terminal for the board's UART for its whole
life (like the USB-serial adapter of a real board), so the exporter's ser2net export stays valid
across reflashes.

    python -m tinydeploy.hil.labgrid_backend bench --board qemu-m4 [--listen 0.0.0.0] [--control-port N]
        prints one JSON line {"pty": "/dev/pts/N", "control_port": N, "board": "qemu-m4"} when ready
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import attr
from labgrid.driver.common import Driver
from labgrid.factory import target_factory
from labgrid.protocol import BootstrapProtocol
from labgrid.resource.common import NetworkResource

from ..errors import TinyDeployError
from .fixtures import Target, Unavailable, project_dir_for

DEFAULT_COORDINATOR = "127.0.0.1:20408"


# -- labgrid resource + driver for emulated places ------------------------------------------------------
@target_factory.reg_resource
@attr.s(eq=False)
class TinydeployEmulator(NetworkResource):
    """The control port of a tinydeploy emulator bench (exported as-is by labgrid-exporter)."""
    port = attr.ib(validator=attr.validators.instance_of(int))
    board = attr.ib(default="", validator=attr.validators.instance_of(str))


@target_factory.reg_driver
@attr.s(eq=False)
class TinydeployEmulatorDriver(Driver, BootstrapProtocol):
    """BootstrapProtocol for an emulated place: load(elf) restarts its emulator with that firmware."""
    bindings = {"emulator": "TinydeployEmulator"}
    timeout = attr.ib(default=60.0)

    @Driver.check_active
    def load(self, filename: str, phase: Any = None) -> str:
        return bench_request(self.emulator.host, self.emulator.port, "FLASH", Path(filename).read_bytes(),
                             timeout=self.timeout)

    @Driver.check_active
    def reset(self) -> str:
        return bench_request(self.emulator.host, self.emulator.port, "RESET", timeout=self.timeout)


def bench_request(host: str, port: int, cmd: str, data: bytes = b"", timeout: float = 60.0) -> str:
    """One request to a bench's control port: `CMD <len>\\n<data>` -> `OK …` (or raises)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"{cmd} {len(data)}\n".encode() + data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    text = reply.decode(errors="replace").strip()
    if not text.startswith("OK"):
        raise TinyDeployError(f"emulator bench {host}:{port} refused {cmd}: {text or 'no reply'}")
    return text


# -- the bench: one emulated board behind a persistent pty ---------------------------------------------------
class Bench:
    """An emulated board with a stable serial port: a pty whose other end follows the current emulator."""

    def __init__(self, board: str, listen: str = "127.0.0.1", control_port: int = 0) -> None:
        import tty

        from ..target import load_board

        self.board = load_board(board)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.pty = os.ttyname(self.slave)
        self.workdir = Path(tempfile.mkdtemp(prefix="td-bench-"))
        self.emu = None
        self.link: socket.socket | None = None
        self.lock = threading.Lock()
        self.elf: Path | None = None
        self.server = socket.create_server((listen, control_port))
        self.control_port = self.server.getsockname()[1]
        self.stopping = False

    # the emulator side
    def flash(self, elf_bytes: bytes) -> str:
        elf = self.workdir / f"firmware-{int(time.time() * 1000)}.elf"
        elf.write_bytes(elf_bytes)
        return self._start(elf)

    def _start(self, elf: Path) -> str:
        from ..link import start_emulator

        with self.lock:
            self._stop_emulator()
            old = self.elf
            self.elf = elf
            self.emu = start_emulator(self.board, elf, transport="tcp", log_path=self.workdir / "emulator.log")
            url = self.emu.url
            if url.startswith("socket://"):
                host, port = url[len("socket://"):].rsplit(":", 1)
                self.link = socket.create_connection((host, int(port)), timeout=5)
                self.link.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.link.setblocking(False)
            else:  # a pty (simavr): open it raw
                import tty
                fd = os.open(url, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                tty.setraw(fd)
                self.link = _FdSock(fd)
            if old is not None and old != elf:
                old.unlink(missing_ok=True)
        return f"OK {self.board.id} {elf.name}"

    def reset(self) -> str:
        if self.elf is None:
            raise TinyDeployError("nothing flashed yet")
        return self._start(self.elf)

    def _stop_emulator(self) -> None:
        if self.link is not None:
            try:
                self.link.close()
            except OSError:
                pass
            self.link = None
        if self.emu is not None:
            self.emu.stop()
            self.emu = None

    # the UART bridge: pty master <-> emulator serial
    def bridge(self) -> None:
        while not self.stopping:
            link = self.link
            fds = [self.master] + ([link.fileno()] if link is not None else [])
            try:
                ready, _, _ = select.select(fds, [], [], 0.2)
            except (OSError, ValueError):
                continue
            if self.master in ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data and link is not None:
                    try:
                        link.sendall(data)
                    except OSError:
                        pass
            if link is not None and link.fileno() in ready:
                try:
                    data = link.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    _write_all(self.master, data)
                else:  # the emulator went away (reflash in progress, or it died)
                    with self.lock:
                        if self.link is link:
                            self.link = None
                    time.sleep(0.05)

    def serve(self) -> None:
        threading.Thread(target=self.bridge, daemon=True).start()
        print(json.dumps({"pty": self.pty, "control_port": self.control_port, "board": self.board.id}), flush=True)
        while not self.stopping:
            try:
                conn, _ = self.server.accept()
            except OSError:
                break
            with conn:
                conn.settimeout(60)
                try:
                    reply = self._handle(conn)
                except Exception as exc:  # one bad request must not end the bench
                    reply = f"ERR {type(exc).__name__}: {exc}"
                try:
                    conn.sendall(reply.encode() + b"\n")
                except OSError:
                    pass

    def _handle(self, conn: socket.socket) -> str:
        buf = b""
        while b"\n" not in buf:
            chunk = conn.recv(4096)
            if not chunk:
                return "ERR empty request"
            buf += chunk
        head, _, data = buf.partition(b"\n")
        cmd, _, n = head.decode().partition(" ")
        n = int(n or 0)
        while len(data) < n:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if cmd == "FLASH":
            return self.flash(data[:n])
        if cmd == "RESET":
            return self.reset()
        if cmd == "STATUS":
            return f"OK {self.board.id} pty={self.pty} running={self.emu is not None and self.emu.alive()}"
        return f"ERR unknown command {cmd!r}"

    def close(self) -> None:
        self.stopping = True
        try:
            self.server.close()
        except OSError:
            pass
        self._stop_emulator()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)


class _FdSock:
    """A raw fd with the socket methods the bridge uses."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def sendall(self, data: bytes) -> None:
        _write_all(self.fd, data)

    def recv(self, n: int) -> bytes:
        try:
            return os.read(self.fd, n)
        except BlockingIOError:
            raise
        except OSError:
            return b""

    def close(self) -> None:
        os.close(self.fd)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            n = os.write(fd, data)
        except BlockingIOError:
            select.select([], [fd], [], 0.5)
            continue
        except OSError:
            return
        data = data[n:]


def exporter_config(benches: dict[str, dict], host: str = "127.0.0.1") -> str:
    """labgrid-exporter YAML for benches {group: {"pty": …, "control_port": …, "board": …}}."""
    lines = []
    for group, b in benches.items():
        lines += [f"{group}:",
                  "  RawSerialPort:", f"    port: {b['pty']}", "    speed: 115200",
                  "  TinydeployEmulator:", f"    host: {host}", f"    port: {b['control_port']}",
                  f"    board: {b['board']}"]
    return "\n".join(lines) + "\n"


# -- the plugin's target -------------------------------------------------------------------------------------------
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
    def _open(self, model: Path, options: Any):
        from ..compile import PlanOptions, compile_graph, load_model
        from ..link import BoardSession, DeviceClient
        from ..target import device_project, ensure_firmware

        b = self.profile
        m = compile_graph(load_model(model), options=options or PlanOptions(), source_name=model.name)
        pdir = project_dir_for(self.build_dir, model, b.id)  # shared with local runs of the same board
        if b.emulated:
            proj = ensure_firmware(model, b, pdir, options=options, compiled=m)
            firmware = proj.elf
        else:
            from ..target import run_pio

            proj = device_project(model, b, pdir, options=options, compiled=m)
            run_pio(["run", "-e", b.id], proj.path, timeout=900)
            firmware = proj.elf
        self._flash(firmware)
        url = self.serial_url()
        client = DeviceClient(url, [m.graph.tensors[t].nbytes for t in m.graph.outputs], baud=b.baud,
                              timeout=self.timeout, expect_sha256=m.graph.sha256)
        hello = client.connect(wait=20.0)
        return BoardSession(client, hello, m, model, url, b, None, proj)

    def reset(self):
        cur = self.current
        if cur is None:
            return None
        self.release_deployment()
        self.current = type(cur)(self._open(cur.model_path, None), self)
        return self.current

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


# -- command line: the bench process ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tinydeploy.hil.labgrid_backend")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="run one emulated board behind a stable pty + a flash control port")
    b.add_argument("--board", required=True)
    b.add_argument("--listen", default="127.0.0.1")
    b.add_argument("--control-port", type=int, default=0)
    args = ap.parse_args(argv)
    bench = Bench(args.board, args.listen, args.control_port)

    def stop(*_):
        bench.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        bench.serve()
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())


# -- a whole farm on this machine (the loopback test, and trying labgrid out) ---------------------------------------
class LoopbackFarm:
    """labgrid-coordinator on 127.0.0.1, one bench per emulated board, an exporter exporting their serial
    ports (ser2net) and flash controls, and one place per bench tagged with its board:

        with LoopbackFarm(workdir, ["qemu-m4", "qemu-m4"]) as farm:   # places bench-0, bench-1
            pytest --board labgrid:board=qemu-m4 --labgrid-coordinator {farm.coordinator} -n 2
    """

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
        import subprocess

        f = open(self.workdir / log, "wb")
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=self.workdir, start_new_session=True, **kw)
        f.close()
        self.procs.append(p)
        return p

    def client(self, *args: str) -> str:
        import subprocess

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
            self._spawn([sys.executable, "-m", "tinydeploy.hil.labgrid_backend", "bench", "--board", board],
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
