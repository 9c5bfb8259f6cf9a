"""From a float model to an integer .tflite that tinydeploy compiles:

    tfconvert.py  Keras (.keras, .h5) and SavedModel folders through TensorFlow's converter (batch 1)
    litequant.py  a float .tflite through ai-edge-quantizer (static int8 or 16x8, min/max calibration)
    edges.py      QUANTIZE/DEQUANTIZE around an integer graph (float I/O)
    report.py     the per-layer quantization error and float vs quantized accuracy (LiteRT BUILTIN_REF)
    pipeline.py   quantize_model(model, calib, ...) -> QuantizeResult; write_model (atomic)
    search.py     search_models(builder, data, board, ...): resolution x width candidates of a Keras builder,
                  fit-checked, the fitting ones trained briefly and measured in int8 (search_inputs.py: its input)

TensorFlow and ai-edge-quantizer are the optional extra `tinydeploy[quantize]`, imported only when used.
"""
from .. import public_face

# The package's public face: other packages import these names from here (tinydeploy.public_face).
__getattr__, __all__ = public_face(__name__, {
    "LayerError": ".report",
    "QuantizeResult": ".pipeline",
    "SCHEMES": ".pipeline",
    "SearchResult": ".search",
    "add_float_edges": ".edges",
    "most_lost": ".report",
    "quantize_model": ".pipeline",
    "search_models": ".search",
    "worst": ".report",
    "write_model": ".pipeline",
})
