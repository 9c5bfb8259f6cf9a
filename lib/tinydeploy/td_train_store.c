/* Tuned parameters saved to a board store and loaded back (td_train_store.h). */
#include "td_train_store.h"

#include <string.h>

/* The hooks are weak references: a board without a store links, and save/load answer TD_STORE_NO_STORE. */
#if defined(__GNUC__) && !defined(__APPLE__)
#pragma weak td_board_store_bytes
#pragma weak td_board_store_write
#pragma weak td_board_store_read
#define TD_HOOKS_PRESENT (td_board_store_bytes && td_board_store_write && td_board_store_read)
#else
#define TD_HOOKS_PRESENT 1
#endif

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t n) {
  uint32_t i;
  int k;
  for (i = 0; i < n; ++i) {
    crc ^= p[i];
    for (k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320UL & (0u - (crc & 1u)));
  }
  return crc;
}

/* The parameter's parts in store order: values, masters, momentum (absent: 0 bytes). */
static uint32_t part(const td_train_blob *b, int which, uint8_t **at) {
  if (which == 0) {
    *at = (uint8_t *)b->value;
    return b->value_bytes;
  }
  *at = (uint8_t *)(which == 1 ? b->master : b->velocity);
  return *at ? 4u * b->count : 0u;
}

uint32_t td_train_store_need(const td_train_blob *params, uint8_t n) {
  uint32_t total = TD_STORE_HEADER_BYTES;
  uint8_t i;
  int w;
  uint8_t *at;
  for (i = 0; i < n; ++i)
    for (w = 0; w < 3; ++w) total += part(&params[i], w, &at);
  return total;
}

int td_train_store_save(const td_train_blob *params, uint8_t n, uint32_t build) {
  uint8_t head[TD_STORE_HEADER_BYTES], *at;
  uint32_t need = td_train_store_need(params, n), off = TD_STORE_HEADER_BYTES, crc = 0xFFFFFFFFUL, bytes;
  uint8_t i;
  int w;
  if (!TD_HOOKS_PRESENT) return TD_STORE_NO_STORE;
  if (td_board_store_bytes() < need) return TD_STORE_NO_ROOM;
  memset(head, 0, sizeof head);
  if (td_board_store_write(0, head, sizeof head) != 0) return TD_STORE_NO_STORE; /* invalidate first */
  for (i = 0; i < n; ++i)
    for (w = 0; w < 3; ++w) {
      bytes = part(&params[i], w, &at);
      if (!bytes) continue;
      if (td_board_store_write(off, at, bytes) != 0) return TD_STORE_NO_STORE;
      crc = crc32_update(crc, at, bytes);
      off += bytes;
    }
  td_put_le32(head, TD_STORE_MAGIC);
  td_put_le32(head + 4, build);
  td_put_le32(head + 8, need - TD_STORE_HEADER_BYTES);
  td_put_le32(head + 12, ~crc);
  return td_board_store_write(0, head, sizeof head) == 0 ? TD_STORE_OK : TD_STORE_NO_STORE;
}

int td_train_store_load(const td_train_blob *params, uint8_t n, uint32_t build) {
  uint8_t head[TD_STORE_HEADER_BYTES], chunk[64], *at;
  uint32_t need = td_train_store_need(params, n), off, crc = 0xFFFFFFFFUL, bytes, k;
  uint8_t i;
  int w;
  if (!TD_HOOKS_PRESENT) return TD_STORE_NO_STORE;
  if (td_board_store_bytes() < TD_STORE_HEADER_BYTES) return TD_STORE_NO_ROOM;
  if (td_board_store_read(0, head, sizeof head) != 0) return TD_STORE_NO_STORE;
  if (td_get_le32(head) != TD_STORE_MAGIC) return TD_STORE_EMPTY;
  if (td_get_le32(head + 4) != build || td_get_le32(head + 8) != need - TD_STORE_HEADER_BYTES) return TD_STORE_OTHER;
  if (td_board_store_bytes() < need) return TD_STORE_CORRUPT;
  for (off = TD_STORE_HEADER_BYTES; off < need; off += k) { /* check the whole record first */
    k = need - off < sizeof chunk ? need - off : (uint32_t)sizeof chunk;
    if (td_board_store_read(off, chunk, k) != 0) return TD_STORE_NO_STORE;
    crc = crc32_update(crc, chunk, k);
  }
  if (~crc != td_get_le32(head + 12)) return TD_STORE_CORRUPT;
  off = TD_STORE_HEADER_BYTES;
  for (i = 0; i < n; ++i)
    for (w = 0; w < 3; ++w) {
      bytes = part(&params[i], w, &at);
      if (!bytes) continue;
      if (td_board_store_read(off, at, bytes) != 0) return TD_STORE_NO_STORE;
      off += bytes;
    }
  return TD_STORE_OK;
}
