"""`python -m tinydeploy.pio prepare [CORE_DIR]`: the documented set-up step of the repo's platformio.ini:
seed a private, offline PlatformIO core dir (default: this checkout's cache one)."""
from __future__ import annotations

import sys

from .target import prepare_core_dir


def main(argv: list[str] | None = None) -> int:
    """Parse `prepare [CORE_DIR]` and seed the core dir."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "prepare" or len(args) > 2:
        print("usage: python -m tinydeploy.pio prepare [CORE_DIR]", file=sys.stderr)
        return 2
    core = prepare_core_dir(args[1] if len(args) > 1 else None)
    print(f"PlatformIO core dir ready (tool-scons seeded, offline): {core}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
