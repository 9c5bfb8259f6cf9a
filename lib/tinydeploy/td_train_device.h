/*
 * Training requests of the device protocol (td_device.h, v2): the board runs a generated training step
 * (<p>_train_step, tinydeploy/train) on samples streamed over the UART, and the host reads the updated
 * parameters back. The sample goes into the model input with SET_INPUT as for INVOKE; then
 *
 *   TRAIN_INFO  -> n_params u8, buffer_bytes u32, state_bytes u32, build u32, steps u32
 *   TRAIN       label u16, lr f32 -> status u8, loss f32, top1 u16, count u32, steps u32
 *   GET_PARAM   index u8, what u8 (0 value, 1 master, 2 momentum), offset u32, n u8 -> n bytes
 *
 * (all little-endian, after the session word every reply starts with). A retried TRAIN is answered from
 * td_device's reply cache: a step never runs twice for one request.
 */
#ifndef TD_TRAIN_DEVICE_H
#define TD_TRAIN_DEVICE_H

#include "td_device.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { TD_MSG_TRAIN_INFO = 0x10, TD_MSG_TRAIN = 0x11, TD_MSG_GET_PARAM = 0x12 };

/** One updated parameter: its quantized values (int8 weights / int32 bias) and float32 masters. */
typedef struct {
  void *value;
  uint32_t value_bytes;
  float *master;
  float *velocity; /* NULL without momentum */
  uint32_t count;  /* masters (and momentum) */
} td_train_blob;

/** What the training requests serve (filled by the generated glue). */
typedef struct {
  float (*step)(const int8_t *input, int label, float lr);
  int (*top1)(void);           /* the model's prediction in the last step's forward */
  int8_t *input_copy;          /* not NULL: the step reads its input after the forward reused the arena,
                                  so the sample is copied here first (input_bytes) */
  uint32_t input_bytes;
  const td_train_blob *params;
  uint8_t n_params;
  uint32_t buffer_bytes;       /* the one training buffer (forward arena + gradients) */
  uint32_t state_bytes;        /* masters, momentum, RAM copies of the updated parameters */
  uint32_t build;              /* the host's hash of model, update spec and momentum */
} td_train_device;

/** Serve the training requests of `t` on td_device `dev` (sets dev->extra). Call after td_device_init. */
void td_train_device_init(td_device *dev, const td_train_device *t);

#ifdef __cplusplus
}
#endif

#endif /* TD_TRAIN_DEVICE_H */
