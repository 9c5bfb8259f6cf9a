/* Training requests of the device protocol: TRAIN_INFO, TRAIN, GET_PARAM (td_train_device.h). */
#include "td_train_device.h"

#include <string.h>

static const td_train_device *train;
static uint32_t steps;

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static int canary_ok(const td_device *dev) {
  uint16_t i;
  for (i = 0; i < TD_CANARY_BYTES; ++i)
    if (dev->arena[dev->arena_bytes + i] != (uint8_t)(0xC3u ^ i)) return 0;
  return 1;
}

static uint16_t train_step(const td_device *dev, const uint8_t *in, uint16_t len, uint8_t *out, uint8_t *status) {
  const int8_t *x = (const int8_t *)td_tensor_data(&dev->inputs[0], dev->arena);
  uint32_t t0, count;
  uint16_t label;
  float lr, loss;
  int top;
  if (len != 6 || dev->n_inputs < 1 || dev->n_outputs < 1) {
    *status = TD_ERR_LENGTH;
    return 0;
  }
  label = (uint16_t)(in[0] | ((uint16_t)in[1] << 8));
  if (label >= dev->outputs[0].bytes) {
    *status = TD_ERR_RANGE;
    return 0;
  }
  {
    const uint32_t bits = td_get_le32(in + 2);
    memcpy(&lr, &bits, 4);
  }
  if (train->input_copy) { /* the backward reads the input after the forward reused its arena bytes */
    memcpy(train->input_copy, x, train->input_bytes);
    x = train->input_copy;
  }
  t0 = dev->counter ? dev->counter() : 0;
  loss = train->step(x, (int)label, lr);
  count = dev->counter ? dev->counter() - t0 : 0;
  top = train->top1();
  ++steps;
  out[4] = (uint8_t)(canary_ok(dev) ? TD_OK : TD_ERR_RANGE);
  td_put_le32(out + 5, float_bits(loss));
  out[9] = (uint8_t)top;
  out[10] = (uint8_t)((unsigned)top >> 8);
  td_put_le32(out + 11, count);
  td_put_le32(out + 15, steps);
  return 19;
}

static uint16_t get_param(const uint8_t *in, uint16_t len, uint8_t *out, uint8_t *status) {
  const td_train_blob *b;
  const uint8_t *src;
  uint32_t offset, size;
  uint8_t n;
  if (len != 7) {
    *status = TD_ERR_LENGTH;
    return 0;
  }
  offset = td_get_le32(in + 2);
  n = in[6];
  b = in[0] < train->n_params ? &train->params[in[0]] : 0;
  src = !b ? 0 : in[1] == 0 ? (const uint8_t *)b->value : in[1] == 1 ? (const uint8_t *)b->master
                                                           : in[1] == 2 ? (const uint8_t *)b->velocity : 0;
  size = !b ? 0 : in[1] == 0 ? b->value_bytes : 4u * b->count;
  if (!src || offset > size || n > size - offset || n > TD_PROTO_MAX_REPLY - 4) {
    *status = TD_ERR_RANGE;
    return 0;
  }
  memcpy(out + 4, src + offset, n);
  return (uint16_t)(4 + n);
}

static uint16_t handle(const td_device *dev, uint8_t type, const uint8_t *in, uint16_t len, uint8_t *out,
                       uint8_t *status) {
  if (type == TD_MSG_TRAIN_INFO) {
    out[4] = train->n_params;
    td_put_le32(out + 5, train->buffer_bytes);
    td_put_le32(out + 9, train->state_bytes);
    td_put_le32(out + 13, train->build);
    td_put_le32(out + 17, steps);
    return 21;
  }
  if (type == TD_MSG_TRAIN) return train_step(dev, in, len, out, status);
  if (type == TD_MSG_GET_PARAM) return get_param(in, len, out, status);
  *status = TD_ERR_TYPE;
  return 0;
}

void td_train_device_init(td_device *dev, const td_train_device *t) {
  train = t;
  steps = 0;
  dev->extra = handle;
}
