/*
 * Tuned parameters that survive a reset: the updated parameters of a training step (their int8/int32
 * values, float32 masters and momentum: td_train_blob) saved to a board store and loaded back.
 *
 * Layout in the store (little-endian as the board): magic u32 "TDP1", build u32 (the host's hash of model,
 * update spec and momentum), payload bytes u32, CRC-32 u32 of the payload, then per parameter its values,
 * masters and momentum. The header is written last, so an interrupted save leaves no valid record (its CRC
 * no longer matches). Load checks everything before it changes a parameter.
 *
 * Board hooks (optional: a board without them gets TD_STORE_NO_STORE): td_board_store_bytes/write/read.
 * QEMU boards: the flash region the linker script reserves (platform/tinydeploy-emu); Arduino: EEPROM.
 */
#ifndef TD_TRAIN_STORE_H
#define TD_TRAIN_STORE_H

#include "td_train_device.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  TD_STORE_OK = 0,
  TD_STORE_EMPTY = -1,    /* nothing saved */
  TD_STORE_OTHER = -2,    /* saved by another model, update spec or momentum */
  TD_STORE_CORRUPT = -3,  /* CRC mismatch */
  TD_STORE_NO_ROOM = -4,  /* the store is smaller than the parameters */
  TD_STORE_NO_STORE = -5, /* the board has no store hooks, or one failed */
};

#define TD_STORE_HEADER_BYTES 16u
#define TD_STORE_MAGIC 0x31504454UL /* "TDP1" */

/** Board hooks: the store's size, and byte access at an offset (0 = done). */
uint32_t td_board_store_bytes(void);
int td_board_store_write(uint32_t offset, const void *data, uint32_t n);
int td_board_store_read(uint32_t offset, void *data, uint32_t n);

/** Bytes a record of these parameters takes (header included). */
uint32_t td_train_store_need(const td_train_blob *params, uint8_t n);
/** Save the parameters (TD_STORE_OK or a negative TD_STORE_* code). */
int td_train_store_save(const td_train_blob *params, uint8_t n, uint32_t build);
/** Load them when the store holds a valid record of the same build; otherwise leave them untouched. */
int td_train_store_load(const td_train_blob *params, uint8_t n, uint32_t build);

#ifdef __cplusplus
}
#endif

#endif /* TD_TRAIN_STORE_H */
