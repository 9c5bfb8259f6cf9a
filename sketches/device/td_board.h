/* What a board's main file provides to the device glue (one implementation per board family). */
#ifndef TD_BOARD_H
#define TD_BOARD_H

#include <stdint.h>

#ifndef TD_BOARD_COUNTER_UNIT
#define TD_BOARD_COUNTER_UNIT 0 /* TD_UNIT_CYCLES */
#endif
#ifndef TD_BOARD_CLOCK_HZ
#define TD_BOARD_CLOCK_HZ 0UL
#endif

/* The protocol the board main serves, picked at compile time: the tinydeploy device protocol
 * (td_device.h), or with -DTD_PROTOCOL_MLPERF the MLPerf Tiny "th_" protocol (td_mlperf.h). */
#ifdef TD_PROTOCOL_MLPERF
#include "td_mlperf.h"
#ifndef TD_MLPERF_MODEL
#define TD_MLPERF_MODEL unknown /* the profile's model, a bare word: -DTD_MLPERF_MODEL=kws01 */
#endif
#define TD_PROTOCOL_FEED td_mlperf_feed
#define TD_PROTOCOL_START(dev, banner) ((void)(banner), td_mlperf_start((dev), TD_MLPERF_STR(TD_MLPERF_MODEL)))
#else
#define TD_PROTOCOL_FEED td_device_feed
/* banner: a string literal or char array (its sizeof), written once the board is up */
#define TD_PROTOCOL_START(dev, banner) td_board_write((const uint8_t *)(banner), (uint16_t)(sizeof(banner) - 1))
#endif

#ifdef __cplusplus
extern "C" {
#endif
uint32_t td_board_counter(void);
void td_board_write(const uint8_t *data, uint16_t n);
const uint8_t *td_board_stack_low(void);
const uint8_t *td_board_stack_high(void);
#ifdef __cplusplus
}
#endif

#endif
