"""tinydeploy: int8 TensorFlow Lite models to bit-exact C for microcontrollers."""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("tinydeploy")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"
