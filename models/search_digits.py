"""A model builder for `tinydeploy fit-search`: the digits demo's CNN (train_digits.cnn) at any input
resolution and width multiplier.

    tinydeploy fit-search models/search_digits.py:cnn --data train.npz --board uno --resolutions 1,0.5 --widths 1,0.5

cnn(input_shape, width) -> keras.Model: Conv2D 3x3 (8*width) relu -> DepthwiseConv2D 3x3 relu -> Conv2D 1x1
(16*width) relu -> MaxPool 2x2 (skipped below 2x2) -> Flatten -> Dense 10 -> Softmax. Uncompiled: fit-search
compiles it with Adam and sparse categorical cross-entropy (compile it here to choose otherwise).
"""
import keras


def channels(n: int, width: float) -> int:
    return max(1, round(n * width))


def cnn(input_shape, width=1.0):
    inp = keras.Input(shape=tuple(input_shape), name="image")
    h = keras.layers.Conv2D(channels(8, width), 3, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(h)
    h = keras.layers.Conv2D(channels(16, width), 1, activation="relu", name="pw")(h)
    if min(input_shape[:2]) >= 2:
        h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(10, name="logits")(h)
    out = keras.layers.Softmax(name="softmax")(h)
    return keras.Model(inp, out, name=f"digits_cnn_{input_shape[0]}x{input_shape[1]}_w{width:g}")
