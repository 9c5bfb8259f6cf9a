"""tinydeploy: int8 TensorFlow Lite models to bit-exact C for microcontrollers."""
import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("tinydeploy")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"


class _PublicFace(types.ModuleType):
    """A layer package. Importing a submodule binds it on its package, which would hide a public name
    the submodule shares (link/flash.py defines link.flash()): that binding is left out."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}" \
                and name in self.__dict__.get("__all__", ()):
            return
        super().__setattr__(name, value)


def public_face(package: str, exports: dict[str, str]):
    """(__getattr__, __all__) for a layer package: `exports` maps each public name to the submodule
    (relative to the package) that defines it. A name is loaded on first use, so importing a package
    costs nothing and the layers never import each other in a cycle."""
    sys.modules[package].__class__ = _PublicFace
    def getattr_(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name], package), name)

    return getattr_, sorted(exports)
