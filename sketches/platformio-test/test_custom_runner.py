# `pio test` runner of the root platformio.ini: the tinydeploy-emu platform's runner, loaded in place.
import os

_RUNNER = os.path.join(os.getcwd(), "platform", "tinydeploy-emu", "support", "test_custom_runner.py")
with open(_RUNNER) as _fh:
    exec(compile(_fh.read(), _RUNNER, "exec"))  # defines CustomTestRunner
