"""On-device training of int8 models, compiled ahead of time (issue 17): the update spec (spec.py), the
training graph (graph.py), the numpy reference (kernels.py, reference.py), the generated C step
(codegen.py, lib/tinydeploy/td_train.c), the host build (host.py), the tuned .tflite (write.py); on a
board (session.py: the training firmware, samples streamed over the device protocol, parameters pulled
back; budget.py: does it fit).

Numerics (C and the numpy reference agree bit for bit):

- Forward: the inference path unchanged (int8 kernels, LiteRT-exact); the activations the backward reads
  are kept in the arena as extra outputs.
- Gradients: a tensor's gradient is int16 mantissas m and one exponent e (float gradient = m * 2**e).
  Every sum is exact in int64 and rounded once, half up, so that |m| <= 2**14 (block floating point); no
  result depends on the loop order. Per-channel weight scales enter as integers R[o] = round(s_w[o] * 2**k)
  < 2**24. Loss: softmax cross-entropy on the dequantized logits, p from a Q30 table of
  exp(beta * s * d), d = logit - max logit in 0..-255, p - onehot in Q14. Masks: a fused RELU/RELU6 (and
  int8 saturation) passes no gradient where the saved int8 output sits on its clamp. AVERAGE_POOL/MEAN
  divide by the window's valid taps as round(2**24 / n); MAX_POOL routes to the first largest input.
- Update (QAS, Lin et al. 2022): a parameter keeps a float32 master in units of its quantization step;
  its gradient in those units is the float gradient divided by the step (= the int8 gradient scaled by
  s**-2), so the master follows float SGD. Element-wise in this order, all float32: t = float32(acc) * 2**e *
  factor; with momentum v = v * mu + t, t = v; master -= t * lr; the int8 weight (int32 bias) is
  floor(master + 0.5) clamped to [-127, 127]. Scales never change, so the written .tflite deploys
  bit-exactly through the inference path. The C is compiled without fused multiply-add.
"""
from .. import public_face

# The package's public face: other packages import these names from here (tinydeploy.public_face).
__getattr__, __all__ = public_face(__name__, {
    "HostTrainer": ".host",
    "export_arduino_train": ".arduino",
    "ReferenceTrainer": ".reference",
    "TrainC": ".codegen",
    "TrainGraph": ".graph",
    "Update": ".spec",
    "build_train_graph": ".graph",
    "choose_update": ".auto",
    "check_train_fit": ".budget",
    "prepare_training": ".session",
    "train_on_board": ".session",
    "TrainResult": ".session",
    "generate_train_c": ".codegen",
    "parse_update": ".spec",
    "replace_params": ".write",
    "write_tuned": ".write",
})
