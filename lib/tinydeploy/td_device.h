/*
 * tinydeploy device protocol (v2): framed, checksummed request/reply over a UART.
 *
 * Frame: 0xA5 0x5A | type | seq | len (2 bytes LE) | payload | crc16
 * (CCITT-FALSE over type..payload, LE). The host sends one request and waits for its reply, so a
 * device with a 64-byte receive buffer never overflows. A request repeated with the same seq
 * and type gets the cached reply again (an INVOKE is never run twice for one request).
 * Every reply carries the session number the host set with HELLO; after a reset it is 0,
 * which tells the host that the device lost its inputs.
 * v2: requests of other types go to the optional `extra` handler (td_train_device.h: TRAIN, GET_PARAM).
 */
#ifndef TD_DEVICE_H
#define TD_DEVICE_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef TD_PROTO_VERSION /* overridable only to test that a host refuses firmware of another version */
#define TD_PROTO_VERSION 2
#endif
#define TD_PROTO_MAX_PAYLOAD 56 /* request payload: a whole frame fits a 64-byte UART buffer */
#define TD_PROTO_MAX_REPLY 120  /* reply payload (the host has room) */

enum {
  TD_MSG_HELLO = 0x01,
  TD_MSG_SET_INPUT = 0x02,
  TD_MSG_INVOKE = 0x03,
  TD_MSG_GET_OUTPUT = 0x04,
  TD_MSG_STATS = 0x05,
  TD_MSG_REPLY = 0x80, /* reply type = request type | 0x80 */
  TD_MSG_NAK = 0x7F
};

enum { TD_OK = 0, TD_ERR_CRC = 1, TD_ERR_LENGTH = 2, TD_ERR_TYPE = 3, TD_ERR_RANGE = 4 };

/* Unit of the counter the board reports per invoke. */
enum { TD_UNIT_CYCLES = 0, TD_UNIT_INSTRUCTIONS = 1, TD_UNIT_MICROSECONDS = 2, TD_UNIT_TICKS = 3 };

/** Everything the protocol needs to know about the model and the board. */
typedef struct td_device_s {
  const char *name;               /* "<board> <model prefix>", shown by the host */
  const char *sha256_hex;         /* the model's SHA-256 (64 hex characters) */
  int (*invoke)(void);
  void (*reset)(void);             /* clears the state tensors: at start-up and before every INVOKE */
  const td_tensor_info *inputs;
  uint8_t n_inputs;
  const td_tensor_info *outputs;
  uint8_t n_outputs;
  uint8_t *arena;                 /* the arena, with TD_CANARY_BYTES spare bytes after it */
  uint32_t arena_bytes;
  uint32_t (*counter)(void);      /* free-running counter read around each invoke, or NULL */
  uint8_t counter_unit;           /* TD_UNIT_* */
  uint32_t clock_hz;
  const uint8_t *stack_low;       /* painted stack region [stack_low, stack_high), or NULL */
  const uint8_t *stack_high;
  void (*write)(const uint8_t *data, uint16_t n); /* UART transmit */
  /* Requests of a type the core does not serve, or NULL. The reply payload goes to out (out[0..3] hold
   * the session already); returns its length, or sets *status (TD_ERR_*) to NAK the request. */
  uint16_t (*extra)(const struct td_device_s *dev, uint8_t type, const uint8_t *in, uint16_t len, uint8_t *out,
                    uint8_t *status);
} td_device;

/** Little-endian 32-bit fields of the protocol's payloads (and of saved training records). */
static inline void td_put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t td_get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#define TD_CANARY_BYTES 16
#define TD_STACK_PAINT 0xA5u

/** Prepare: write the arena canary, zero the session. Call once at boot. */
void td_device_init(const td_device *dev);
/** Feed one received byte; replies are sent through dev->write when a frame completes. */
void td_device_feed(const td_device *dev, uint8_t byte);
/** Fill [low, high) with the paint pattern (call early, with high below the live stack). */
void td_device_paint_stack(uint8_t *low, uint8_t *high);

#ifdef __cplusplus
}
#endif

#endif /* TD_DEVICE_H */
