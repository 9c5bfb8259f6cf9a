"""TFLite flatbuffer access: the generated schema and the reader into the IR."""
from . import schema

__all__ = ["schema"]
