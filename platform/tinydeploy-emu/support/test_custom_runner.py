# `pio test` runner for the tinydeploy-emu boards (copy it to <project>/test/test_custom_runner.py and set
# `test_framework = custom`). The platform has no uploader package, so PlatformIO builds the test firmware,
# skips upload and calls stage_testing(): we run the ELF in the board's emulator (QEMU or simavr) and turn
# its `<case>:PASS` / `<case>:FAIL:<message>` lines into test cases.
import os
import re

from platformio.test.exception import UnitTestError
from platformio.test.result import TestCase, TestStatus
from platformio.test.runners.base import TestRunnerBase
from platformio.test.runners.readers.native import NativeTestOutputReader

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIMEOUT = os.environ.get("TINYDEPLOY_TEST_TIMEOUT", "120")


class EmulatorReader(NativeTestOutputReader):
    def get_testing_command(self):
        r = self.test_runner
        env = r.test_suite.env_name
        board = r.platform.board_config(r.project_config.get("env:" + env, "board"))
        emu = board.get("emulator")
        elf = os.path.join(r.project_config.get("platformio", "build_dir"), env, "firmware.elf")
        if emu["kind"] == "qemu":
            cmd = [emu["binary"], "-M", emu["machine"]] + (["-cpu", emu["cpu"]] if emu.get("cpu") else []) + \
                ["-nographic", "-monitor", "none"] + list(emu.get("args", [])) + ["-kernel", elf]
        else:
            cmd = [emu["binary"], "-m", emu["machine"], "-f", str(board.get("build.f_cpu")).rstrip("L"), elf]
        return ["timeout", TIMEOUT] + cmd

    @staticmethod
    def raise_for_status(return_code):  # the default names codes 1..31 after signals
        raise UnitTestError("emulator exit status %d (1 = a sample failed, 124 = timeout, 255 = fault)"
                            % return_code)


class CustomTestRunner(TestRunnerBase):
    LINE_RE = re.compile(r"^(\w+):(PASS|FAIL)(?::(.*))?$")

    def stage_testing(self):
        if not self.options.without_testing:
            EmulatorReader(self).begin()

    def on_testing_line_output(self, line):
        line = ANSI_RE.sub("", line).rstrip()
        if line.endswith("."):  # simavr shows the line end (LF, or CR LF) as "." / ".."
            line = line[:-2] if line.endswith("..") else line[:-1]
        super().on_testing_line_output(line + "\n")
        m = self.LINE_RE.match(line.strip())
        if m:
            status = TestStatus.PASSED if m[2] == "PASS" else TestStatus.FAILED
            self.test_suite.add_case(TestCase(m[1], status, message=m[3]))
        elif line.strip() == "DONE":
            self.test_suite.on_finish()
