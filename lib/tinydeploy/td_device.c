/* tinydeploy device protocol: frame parser, request handlers, cached replies. See td_device.h. */
#include "td_device.h"

#include <string.h>

#define HEADER_BYTES 6
#define MAX_FRAME (HEADER_BYTES + TD_PROTO_MAX_PAYLOAD + 2)
#define MAX_REPLY_FRAME (HEADER_BYTES + TD_PROTO_MAX_REPLY + 2)

static struct {
  uint8_t buf[MAX_FRAME];
  uint16_t have;      /* bytes of the current frame received */
  uint16_t need;      /* total bytes of the current frame once its header is known */
  uint8_t reply[MAX_REPLY_FRAME];
  uint16_t reply_len;
  uint8_t last_type, last_seq, have_last;
  uint32_t session, invokes, last_count;
} st;

static uint16_t crc16(const uint8_t *p, uint16_t n) {
  uint16_t crc = 0xFFFFu;
  uint16_t i;
  uint8_t b;
  for (i = 0; i < n; ++i) {
    crc ^= (uint16_t)((uint16_t)p[i] << 8);
    for (b = 0; b < 8; ++b) crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
  }
  return crc;
}

/* Frame header + crc around a payload already at frame + 6; returns the frame length. */
static uint16_t seal(uint8_t *frame, uint8_t type, uint8_t seq, uint16_t len) {
  uint16_t crc;
  frame[0] = 0xA5u;
  frame[1] = 0x5Au;
  frame[2] = type;
  frame[3] = seq;
  frame[4] = (uint8_t)len;
  frame[5] = (uint8_t)(len >> 8);
  crc = crc16(frame + 2, (uint16_t)(len + 4));
  frame[HEADER_BYTES + len] = (uint8_t)crc;
  frame[HEADER_BYTES + len + 1] = (uint8_t)(crc >> 8);
  return (uint16_t)(HEADER_BYTES + len + 2);
}

/* A NAK has its own buffer: the cached reply must survive it, so that a retried INVOKE is
 * answered from the cache and never runs twice (the arena is reused, so a second run of the
 * same request would read overwritten inputs). */
static void nak(const td_device *dev, uint8_t seq, uint8_t code) {
  uint8_t frame[HEADER_BYTES + 1 + 2];
  frame[HEADER_BYTES] = code;
  dev->write(frame, seal(frame, TD_MSG_NAK, seq, 1));
}

static uint8_t hex_nibble(char c) {
  return (uint8_t)(c >= 'a' ? c - 'a' + 10 : (c >= 'A' ? c - 'A' + 10 : c - '0'));
}

static int canary_ok(const td_device *dev) {
  uint16_t i;
  for (i = 0; i < TD_CANARY_BYTES; ++i)
    if (dev->arena[dev->arena_bytes + i] != (uint8_t)(0xC3u ^ i)) return 0;
  return 1;
}

static uint32_t stack_peak(const td_device *dev) {
  const uint8_t *p = dev->stack_low;
  if (!p || !dev->stack_high) return 0;
  while (p < dev->stack_high && *p == TD_STACK_PAINT) ++p;
  return (uint32_t)(dev->stack_high - p);
}

/* Handle one complete, checksum-valid request; payload in st.buf + 6. Returns reply length. */
static uint16_t handle(const td_device *dev, uint8_t type, const uint8_t *in, uint16_t len, uint8_t *out,
                       uint8_t *status) {
  *status = TD_OK;
  td_put_le32(out, st.session);
  if (type == TD_MSG_HELLO) {
    uint16_t i, n;
    if (len >= 4) st.session = td_get_le32(in);
    td_put_le32(out, st.session);
    out[4] = TD_PROTO_VERSION;
    td_put_le32(out + 5, dev->arena_bytes);
    out[9] = dev->n_inputs;
    out[10] = dev->n_outputs;
    out[11] = dev->counter_unit;
    td_put_le32(out + 12, dev->clock_hz);
    for (i = 0; i < 32; ++i)
      out[16 + i] = (uint8_t)((hex_nibble(dev->sha256_hex[2 * i]) << 4) | hex_nibble(dev->sha256_hex[2 * i + 1]));
    n = (uint16_t)strlen(dev->name);
    if (n > TD_PROTO_MAX_REPLY - 48) n = TD_PROTO_MAX_REPLY - 48;
    memcpy(out + 48, dev->name, n);
    return (uint16_t)(48 + n);
  }
  if (type == TD_MSG_SET_INPUT || type == TD_MSG_GET_OUTPUT) {
    const uint8_t index = len >= 5 ? in[0] : 0xFFu;
    const uint32_t offset = len >= 5 ? td_get_le32(in + 1) : 0;
    const td_tensor_info *t = type == TD_MSG_SET_INPUT ? (index < dev->n_inputs ? &dev->inputs[index] : 0)
                                                       : (index < dev->n_outputs ? &dev->outputs[index] : 0);
    const uint16_t n = type == TD_MSG_SET_INPUT ? (uint16_t)(len - 5) : (len >= 6 ? in[5] : 0);
    if (!t || offset + n > t->bytes || (type == TD_MSG_GET_OUTPUT && n > TD_PROTO_MAX_REPLY - 4)) {
      *status = TD_ERR_RANGE;
      return 0;
    }
    if (type == TD_MSG_SET_INPUT) {
      memcpy(td_tensor_data(t, dev->arena) + offset, in + 5, n);
      out[4] = TD_OK;
      return 5;
    }
    memcpy(out + 4, td_tensor_data(t, dev->arena) + offset, n);
    return (uint16_t)(4 + n);
  }
  if (type == TD_MSG_INVOKE) {
    uint32_t t0;
    if (dev->reset) dev->reset(); /* every sample from a fresh state, as the host reference runs it */
    t0 = dev->counter ? dev->counter() : 0;
    int rc = dev->invoke();
    st.last_count = dev->counter ? dev->counter() - t0 : 0;
    ++st.invokes;
    out[4] = (uint8_t)(rc == 0 && canary_ok(dev) ? TD_OK : TD_ERR_RANGE);
    td_put_le32(out + 5, st.last_count);
    td_put_le32(out + 9, st.invokes);
    return 13;
  }
  if (type == TD_MSG_STATS) {
    td_put_le32(out + 4, stack_peak(dev));
    out[8] = (uint8_t)canary_ok(dev);
    td_put_le32(out + 9, st.invokes);
    td_put_le32(out + 13, dev->arena_bytes);
    return 17;
  }
  *status = TD_ERR_TYPE; /* td_device_feed asks dev->extra (refuse_or_extra) */
  return 0;
}

/* Seal the n-byte payload in st.reply, send it, and keep it for a retry of the same request. */
static void send_reply(const td_device *dev, uint8_t type, uint8_t seq, uint16_t n) {
  st.reply_len = seal(st.reply, (uint8_t)(type | TD_MSG_REPLY), seq, n);
  dev->write(st.reply, st.reply_len);
  st.last_seq = seq;
  st.last_type = type;
  st.have_last = 1;
}

/* A request handle() refused: NAK it, unless dev->extra serves its type. Out of line, so that the stack of
 * the INVOKE path (which the protocol measures) is the same as without dev->extra. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void refuse_or_extra(const td_device *dev, uint8_t seq, uint8_t status) {
  const uint8_t type = st.buf[2];
  uint16_t n = 0;
  if (status == TD_ERR_TYPE && dev->extra) {
    status = TD_OK;
    td_put_le32(st.reply + HEADER_BYTES, st.session);
    n = dev->extra(dev, type, st.buf + HEADER_BYTES, (uint16_t)(st.need - HEADER_BYTES - 2),
                   st.reply + HEADER_BYTES, &status);
  }
  if (status != TD_OK) {
    nak(dev, seq, status);
    return;
  }
  send_reply(dev, type, seq, n);
}

void td_device_init(const td_device *dev) {
  uint16_t i;
  memset(&st, 0, sizeof st);
  for (i = 0; i < TD_CANARY_BYTES; ++i) dev->arena[dev->arena_bytes + i] = (uint8_t)(0xC3u ^ i);
  if (dev->reset) dev->reset();
}

void td_device_paint_stack(uint8_t *low, uint8_t *high) {
  while (low < high) *low++ = TD_STACK_PAINT;
}

void td_device_feed(const td_device *dev, uint8_t byte) {
  if (st.have == 0 && byte != 0xA5u) return; /* resynchronize: skip banner text and garbage */
  if (st.have == 1 && byte != 0x5Au) {
    st.have = byte == 0xA5u ? 1 : 0;
    return;
  }
  st.buf[st.have++] = byte;
  if (st.have == HEADER_BYTES) {
    const uint16_t len = (uint16_t)(st.buf[4] | ((uint16_t)st.buf[5] << 8));
    if (len > TD_PROTO_MAX_PAYLOAD) {
      nak(dev, st.buf[3], TD_ERR_LENGTH);
      st.have = 0;
      return;
    }
    st.need = (uint16_t)(HEADER_BYTES + len + 2);
  }
  if (st.have < HEADER_BYTES || st.have < st.need) return;
  {
    const uint8_t type = st.buf[2], seq = st.buf[3];
    const uint16_t len = (uint16_t)(st.need - HEADER_BYTES - 2);
    const uint16_t crc = (uint16_t)(st.buf[st.need - 2] | ((uint16_t)st.buf[st.need - 1] << 8));
    uint8_t status;
    uint16_t n;
    st.have = 0;
    if (crc != crc16(st.buf + 2, (uint16_t)(len + 4))) {
      nak(dev, seq, TD_ERR_CRC);
      return;
    }
    if (st.have_last && seq == st.last_seq && type == st.last_type) {
      dev->write(st.reply, st.reply_len); /* a retry: same answer, no second invoke */
      return;
    }
    n = handle(dev, type, st.buf + HEADER_BYTES, len, st.reply + HEADER_BYTES, &status);
    if (status != TD_OK) {
      refuse_or_extra(dev, seq, status);
      return;
    }
    send_reply(dev, type, seq, n);
  }
}
