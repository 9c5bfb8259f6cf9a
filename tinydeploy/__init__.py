"""tinydeploy: int8 TensorFlow Lite models to bit-exact C for microcontrollers."""
import importlib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("tinydeploy")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"


def public_face(package: str, exports: dict[str, str]):
    """(__getattr__, __all__) for a layer package: `exports` maps each public name to the submodule
    (relative to the package) that defines it. A name is loaded on first use, so importing a package
    costs nothing and the layers never import each other in a cycle."""
    def getattr_(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name], package), name)

    return getattr_, sorted(exports)
