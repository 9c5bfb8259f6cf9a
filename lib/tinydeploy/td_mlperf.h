/*
 * The MLPerf Tiny / EEMBC "th_" test-harness protocol, our own parser, on the same td_device as the
 * tinydeploy device protocol (td_device.h): the board main feeds it received bytes one at a time.
 *
 * ASCII commands end with '%', tokens are separated by spaces; every command is answered, then
 * `m-ready`. After boot: `m-init-done`, `m-ready`.
 *
 *   name               m-name-dut-[tinydeploy]
 *   profile            m-profile-[tinydeploy-<version>]  m-model-[<the model given to td_mlperf_start>]
 *   timestamp          m-lap-us-<microseconds since boot, from dev->counter at dev->clock_hz>
 *   db load N          N must be the model's input bytes: m-[Expecting N bytes]
 *   db <hex>           the next bytes, written straight into the input tensor(s); m-load-done when full
 *   db print [N [O]]   m-buffer-xx-xx-... (8 bytes a line): the input bytes
 *   infer [N [W]]      W warm-ups, then N timed inferences (defaults 1 and 10, as the reference firmware),
 *                      two m-lap-us lines around the N, m-infer-done and the results
 *   results            m-results-[f,f,...]: every output element dequantized, TD_MLPERF_DECIMALS decimals
 * Errors print `e-[...]` (then `m-ready`).
 *
 * The input bytes are the model's int8/uint8 input tensor bytes as they are. `infer` runs the model on
 * them W + N times, so the input must survive an inference: build the model with its input outside
 * the arena (PlanOptions.input_outside_arena, --input-outside-arena); an input in the arena makes
 * `infer` with N + W > 1 an error.
 */
#ifndef TD_MLPERF_H
#define TD_MLPERF_H

#include "td_device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Board mains: the profile's model from the build flags as a bare word (-DTD_MLPERF_MODEL=kws01). */
#define TD_MLPERF_STR2(x) #x
#define TD_MLPERF_STR(x) TD_MLPERF_STR2(x)
#ifndef TD_MLPERF_DECIMALS
#define TD_MLPERF_DECIMALS 6 /* digits after the point in m-results (1..9) */
#endif
#define TD_MLPERF_LINE_MAX 80 /* longest command: "db " + 31 bytes of hex is the runner's chunk */

/** Print m-init-done and m-ready; call once after td_model_setup(), when the UART can receive.
 * `model`: what `profile` names, "kws01", "vww01", "ad01" or "ic01" (kept, not copied). */
void td_mlperf_start(const td_device *dev, const char *model);
/** Feed one received byte; a command runs (and is answered through dev->write) at its '%'. */
void td_mlperf_feed(const td_device *dev, uint8_t byte);

#ifdef __cplusplus
}
#endif

#endif /* TD_MLPERF_H */
