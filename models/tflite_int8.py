"""Keras -> quantized TFLite and the LiteRT BUILTIN_REF interpreter, shared by the model scripts
(models/train_digits.py, models/make_vww96.py, tests/models/make_lstm_model.py)."""
import numpy as np
import tensorflow as tf


def convert(model, rep, mode="int8"):
    """Post-training quantization with `rep` (one sample per step) as the representative dataset.
    mode: 'int8' (int8 I/O), 'float_io' (int8 graph, float32 I/O) or '16x8' (int16 I/O)."""
    def representative():
        for i in range(len(rep)):
            yield [rep[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    if mode == "16x8":
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        conv.inference_input_type = tf.int16
        conv.inference_output_type = tf.int16
    else:
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if mode == "int8":
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
    return conv.convert()


def interpreter(content):
    """LiteRT with the reference kernels (OpResolverType.BUILTIN_REF), tensors allocated."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    it = Interpreter(model_content=content,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    return it


def op_names(content):
    return [d["op_name"] for d in interpreter(content)._get_ops_details()]


def quantize(x, detail):
    """Floats -> the integer type of a LiteRT input/output detail, with its scale and zero point."""
    scale, zp = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(detail["dtype"])
