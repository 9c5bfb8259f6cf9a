"""Stand-ins for models LiteRT refuses (TFLM's person_detect: per-channel bias tensors with quantized_dimension
3) and for the batch shape rule, made with the generated flatbuffer schema (object API), never by hand."""
from pathlib import Path

import flatbuffers

from tinydeploy.compile import schema as S
from tinydeploy.testing.builder import ModelBuilder

BIAS_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def bias_axis_3(src: Path, dst: Path) -> Path:
    """`src` with every per-channel bias (input 2 of conv, depthwise, fully connected) given quantized_dimension
    3, as in TFLM's person_detect: TFLM accepts it, LiteRT refuses it. Returns dst."""
    m = S.ModelT.InitFromPackedBuf(src.read_bytes(), 0)
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    wanted = {getattr(S.BuiltinOperator, k) for k in BIAS_OPS}
    patched = 0
    for sg in m.subgraphs:
        for op in sg.operators:
            if codes[op.opcodeIndex] in wanted and len(op.inputs) > 2 and op.inputs[2] >= 0:
                q = sg.tensors[op.inputs[2]].quantization
                if q is not None and q.scale is not None and len(q.scale) > 1:
                    q.quantizedDimension = 3
                    patched += 1
    assert patched, f"{src.name} has no per-channel bias to patch"
    fb = flatbuffers.Builder(1024)
    fb.Finish(m.Pack(fb), file_identifier=b"TFL3")
    dst.write_bytes(bytes(fb.Output()))
    return dst


def relu_640(dst: Path) -> Path:
    """A [1, 640] int8 input and output (RELU): the shape of the issue's batch example."""
    b = ModelBuilder()
    x = b.tensor([1, 640], "int8", scale=0.05, zero_point=-10)
    y = b.tensor([1, 640], "int8", scale=0.05, zero_point=-10)
    b.op("RELU", [x], [y])
    dst.write_bytes(b.build([x], [y]))
    return dst
