"""labgrid resource + driver for emulated places: a place whose "board" is a tinydeploy emulator bench
(tinydeploy.hil.bench) exports `TinydeployEmulator` (the bench's control port) next to the bench's pty
(`RawSerialPort`, shared through ser2net):

    # exporter.yaml
    bench-0:
      RawSerialPort: {port: /dev/pts/3, speed: 115200}
      TinydeployEmulator: {host: emu-server, port: 40123, board: qemu-m4}

labgrid-exporter exports the resource as-is; importing this module registers it (and the driver) with
labgrid's target factory on the client side. TinydeployEmulatorDriver.load(elf) is labgrid's
BootstrapProtocol: it sends the ELF to the bench, which restarts its emulator with it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import attr
from labgrid.driver.common import Driver
from labgrid.factory import target_factory
from labgrid.protocol import BootstrapProtocol
from labgrid.resource.common import NetworkResource

from .bench import bench_request


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
