/* MLPerf Tiny "th_" protocol: command line, db buffer = the input tensor, timed infer. See td_mlperf.h. */
#include "td_mlperf.h"

#include <string.h>

#define MAX_TOKENS 4

/* AVR: the messages stay in flash (PROGMEM) rather than taking SRAM; elsewhere they are plain strings. */
#ifdef __AVR__
#include <avr/pgmspace.h>
#define P(s) PSTR(s)
#define READ_P(p) ((char)pgm_read_byte(p))
#else
#define P(s) (s)
#define READ_P(p) (*(p))
#endif

static struct {
  char line[TD_MLPERF_LINE_MAX + 1];
  uint8_t len, overflow;
  uint32_t expect, loaded; /* db load N, and the bytes received since */
  uint32_t last;           /* counter at the last reading */
  uint64_t counts;         /* counts since boot: 64 bits, so the 32-bit counter may wrap between readings */
  const char *model;       /* the profile's m-model */
} ms;

static void put(const td_device *dev, const char *s) { dev->write((const uint8_t *)s, (uint16_t)strlen(s)); }

/* A message from P(...): copied out in small pieces (flash on AVR). */
static void putp(const td_device *dev, const char *s) {
  char buf[16];
  uint8_t n = 0;
  while ((buf[n] = READ_P(s)) != 0) {
    ++s;
    if (++n == sizeof buf) {
      dev->write((const uint8_t *)buf, n);
      n = 0;
    }
  }
  if (n) dev->write((const uint8_t *)buf, n);
}

static void put_u64(const td_device *dev, uint64_t v) {
  char buf[21];
  uint8_t i = sizeof buf - 1;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + (uint8_t)(v % 10u));
    v /= 10u;
  } while (v);
  put(dev, buf + i);
}

static void put_hex(const td_device *dev, uint8_t b) {
  static const char digits[] = "0123456789abcdef";
  char two[2];
  two[0] = digits[b >> 4];
  two[1] = digits[b & 15u];
  dev->write((const uint8_t *)two, 2);
}

/* Fixed-point decimal of a float, rounded to TD_MLPERF_DECIMALS digits (no printf %f needed). */
static void put_float(const td_device *dev, float x) {
  uint32_t unit = 1, ip, frac;
  uint8_t d, neg = 0;
  char buf[12];
  if (x != x) {
    putp(dev, P("nan"));
    return;
  }
  for (d = 0; d < TD_MLPERF_DECIMALS; ++d) unit *= 10u;
  if (x < 0.0f) {
    neg = 1;
    x = -x;
  }
  if (x >= 4294967040.0f) { /* beyond uint32 (the runner parses "inf") */
    putp(dev, neg ? P("-inf") : P("inf"));
    return;
  }
  ip = (uint32_t)x;
  frac = (uint32_t)((x - (float)ip) * (float)unit + 0.5f); /* x - ip is exact for a float */
  if (frac >= unit) {
    ++ip;
    frac -= unit;
  }
  if (neg && (ip || frac)) putp(dev, P("-"));
  put_u64(dev, ip);
  putp(dev, P("."));
  for (d = TD_MLPERF_DECIMALS; d > 0; --d) {
    buf[d - 1] = (char)('0' + frac % 10u);
    frac /= 10u;
  }
  buf[TD_MLPERF_DECIMALS] = 0;
  put(dev, buf);
}

/* Microseconds since boot: the counter's counts at dev->clock_hz (counts are microseconds already when
 * the unit says so or no clock is known). */
static uint64_t now_us(const td_device *dev) {
  uint64_t hz = dev->clock_hz;
  if (dev->counter) {
    const uint32_t c = dev->counter();
    ms.counts += (uint32_t)(c - ms.last);
    ms.last = c;
  }
  if (dev->counter_unit == TD_UNIT_MICROSECONDS || hz == 0u) return ms.counts;
  return ms.counts / hz * 1000000u + ms.counts % hz * 1000000u / hz;
}

static void put_lap(const td_device *dev, uint64_t us) {
  putp(dev, P("m-lap-us-"));
  put_u64(dev, us);
  putp(dev, P("\r\n"));
}

static void error(const td_device *dev, const char *what, const char *arg) { /* what: P(...), arg: RAM */
  putp(dev, P("e-["));
  putp(dev, what);
  if (arg) put(dev, arg);
  putp(dev, P("]\r\n"));
}

static uint32_t input_bytes(const td_device *dev) {
  uint32_t n = 0;
  uint8_t i;
  for (i = 0; i < dev->n_inputs; ++i) n += dev->inputs[i].bytes;
  return n;
}

/* Byte `pos` of the inputs taken one after the other (MLPerf models have one input). */
static uint8_t *input_byte(const td_device *dev, uint32_t pos) {
  uint8_t i;
  for (i = 0; i < dev->n_inputs; ++i) {
    if (pos < dev->inputs[i].bytes) return td_tensor_data(&dev->inputs[i], dev->arena) + pos;
    pos -= dev->inputs[i].bytes;
  }
  return 0;
}

/* Unsigned decimal; 0 on success, -1 when s is not one. */
static int parse_u32(const char *s, uint32_t *out) {
  uint32_t v = 0;
  if (!*s) return -1;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9' || v > 429496728u) return -1;
    v = v * 10u + (uint32_t)(*s - '0');
  }
  *out = v;
  return 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void db_load(const td_device *dev, const char *arg) {
  uint32_t n = 0;
  const uint32_t want = input_bytes(dev);
  if (!arg || parse_u32(arg, &n) || n != want) {
    putp(dev, P("e-[db load N: N must be the model's input bytes, "));
    put_u64(dev, want);
    putp(dev, P("]\r\n"));
    return;
  }
  ms.expect = n;
  ms.loaded = 0;
  putp(dev, P("m-[Expecting "));
  put_u64(dev, n);
  putp(dev, P(" bytes]\r\n"));
}

static void db_data(const td_device *dev, const char *hex) {
  const uint32_t digits = (uint32_t)strlen(hex);
  uint32_t i;
  if (ms.expect == 0u) { error(dev, P("db load N first"), 0); return; }
  if (digits & 1u) { error(dev, P("odd number of hex digits"), 0); return; }
  for (i = 0; i < digits; ++i)
    if (hex_value(hex[i]) < 0) { error(dev, P("not a hex digit in: "), hex); return; }
  if (ms.loaded + digits / 2u > ms.expect) { error(dev, P("more bytes than db load announced"), 0); return; }
  for (i = 0; i < digits; i += 2)
    *input_byte(dev, ms.loaded++) = (uint8_t)(hex_value(hex[i]) << 4 | hex_value(hex[i + 1]));
  if (ms.loaded == ms.expect) putp(dev, P("m-load-done\r\n"));
}

static void db_print(const td_device *dev, const char *count, const char *offset) {
  uint32_t n = ms.expect ? ms.expect : input_bytes(dev), off = 0, i;
  const uint32_t total = input_bytes(dev);
  if ((count && parse_u32(count, &n)) || (offset && parse_u32(offset, &off)) || off > total || n > total - off) {
    error(dev, P("db print [N [offset]]: past the input's bytes"), 0);
    return;
  }
  for (i = 0; i < n; ++i) {
    if (i % 8u == 0u) putp(dev, P("m-buffer-"));
    put_hex(dev, *input_byte(dev, off + i));
    putp(dev, (i % 8u == 7u || i + 1u == n) ? P("\r\n") : P("-"));
  }
}

static uint8_t elem_size(const td_tensor_info *t) {
  return t->dtype == TD_INT16 ? 2 : (t->dtype == TD_INT32 || t->dtype == TD_FLOAT32) ? 4 : 1;
}

/* Element at byte offset i of tensor t (data at p), dequantized with its scale and zero point. */
static float value_at(const td_tensor_info *t, const uint8_t *p, uint32_t i) {
  float v;
  int32_t q;
  if (t->dtype == TD_FLOAT32) {
    memcpy(&v, p + i, 4);
    return v;
  }
  if (t->dtype == TD_INT16) {
    int16_t h;
    memcpy(&h, p + i, 2);
    q = h;
  } else if (t->dtype == TD_INT32) {
    memcpy(&q, p + i, 4);
  } else {
    q = t->dtype == TD_INT8 ? (int32_t)(int8_t)p[i] : (int32_t)p[i];
  }
  return t->scale != 0.0f ? (float)(q - t->zero_point) * t->scale : (float)q;
}

/* ad01 (an autoencoder): the reference firmware reports one anomaly score, the mean squared error between
   the dequantized output and input; the runner's AUC reads that. Returns 0 when the shapes do not allow it. */
static int anomaly_score(const td_device *dev) {
  const td_tensor_info *in = &dev->inputs[0], *out = &dev->outputs[0];
  const uint8_t *pi = td_tensor_data(in, dev->arena), *po = td_tensor_data(out, dev->arena);
  const uint8_t si = elem_size(in), so = elem_size(out);
  uint32_t k, n = in->bytes / si;
  float sum = 0.0f;
  if (strcmp(ms.model, "ad01") || dev->n_inputs != 1 || dev->n_outputs != 1 || n == 0u || out->bytes / so != n)
    return 0;
  for (k = 0; k < n; ++k) {
    const float d = value_at(out, po, k * so) - value_at(in, pi, k * si);
    sum += d * d;
  }
  putp(dev, P("m-results-["));
  put_float(dev, sum / (float)n);
  putp(dev, P("]\r\n"));
  return 1;
}

static void results(const td_device *dev) {
  uint8_t k;
  int first = 1;
  if (anomaly_score(dev)) return;
  putp(dev, P("m-results-["));
  for (k = 0; k < dev->n_outputs; ++k) {
    const td_tensor_info *t = &dev->outputs[k];
    const uint8_t *p = td_tensor_data(t, dev->arena);
    const uint8_t size = elem_size(t);
    uint32_t i;
    for (i = 0; i + size <= t->bytes; i += size) {
      if (!first) putp(dev, P(","));
      first = 0;
      put_float(dev, value_at(t, p, i));
    }
  }
  putp(dev, P("]\r\n"));
}

static int canary_ok(const td_device *dev) {
  uint8_t i;
  for (i = 0; i < TD_CANARY_BYTES; ++i)
    if (dev->arena[dev->arena_bytes + i] != (uint8_t)(0xC3u ^ i)) return 0; /* td_device_init's pattern */
  return 1;
}

static int run(const td_device *dev, uint32_t n) {
  int rc = 0;
  while (n-- > 0u) {
    if (dev->reset) dev->reset(); /* every inference from a fresh state, as the host reference runs it */
    rc |= dev->invoke();
  }
  return rc;
}

static int inputs_in_arena(const td_device *dev) {
  uint8_t i;
  for (i = 0; i < dev->n_inputs; ++i)
    if (!dev->inputs[i].data) return 1;
  return 0;
}

static void infer(const td_device *dev, const char *count, const char *warmups) {
  uint32_t n = 1, w = 10;
  uint64_t t0, t1;
  int rc;
  if ((count && (parse_u32(count, &n) || n == 0u)) || (warmups && parse_u32(warmups, &w))) {
    error(dev, P("infer N [W]: N > 0 inferences after W >= 0 warm-ups"), 0);
    return;
  }
  if (ms.expect == 0u || ms.loaded != ms.expect) {
    error(dev, P("no input: db load N, then db <hex> until m-load-done"), 0);
    return;
  }
  if (n + w > 1u && inputs_in_arena(dev)) {
    error(dev, P("the input is in the arena and an inference overwrites it: infer 1 0, or --input-outside-arena"), 0);
    return;
  }
  putp(dev, P("m-warmup-start-"));
  put_u64(dev, w);
  putp(dev, P("\r\n"));
  rc = run(dev, w);
  putp(dev, P("m-warmup-done\r\nm-infer-start-"));
  put_u64(dev, n);
  putp(dev, P("\r\n"));
  t0 = now_us(dev); /* both readings first, printed after: the UART output is outside the interval */
  rc |= run(dev, n);
  t1 = now_us(dev);
  put_lap(dev, t0);
  put_lap(dev, t1);
  if (rc != 0 || !canary_ok(dev)) {
    error(dev, rc ? P("invoke failed") : P("arena canary overwritten"), 0);
    return;
  }
  putp(dev, P("m-infer-done\r\n"));
  results(dev);
}

static void dispatch(const td_device *dev, char *line) {
  char *tok[MAX_TOKENS] = {0};
  uint8_t n = 0;
  char *p = line;
  while (*p && n < MAX_TOKENS) {
    while (*p == ' ') *p++ = 0;
    if (!*p) break;
    tok[n++] = p;
    while (*p && *p != ' ') ++p;
  }
  if (n == 0) return; /* an empty command: just m-ready (the runner sends a lone '%' to flush) */
  if (!strcmp(tok[0], "name")) {
    putp(dev, P("m-name-dut-[tinydeploy]\r\n"));
  } else if (!strcmp(tok[0], "profile")) {
    putp(dev, P("m-profile-[tinydeploy-" TD_RUNTIME_VERSION "]\r\nm-model-["));
    put(dev, ms.model);
    putp(dev, P("]\r\n"));
  } else if (!strcmp(tok[0], "timestamp")) {
    put_lap(dev, now_us(dev));
  } else if (!strcmp(tok[0], "db")) {
    if (!tok[1]) error(dev, P("db needs a subcommand: load N, print, or hex bytes"), 0);
    else if (!strcmp(tok[1], "load")) db_load(dev, tok[2]);
    else if (!strcmp(tok[1], "print")) db_print(dev, tok[2], tok[3]);
    else db_data(dev, tok[1]);
  } else if (!strcmp(tok[0], "infer")) {
    infer(dev, tok[1], tok[2]);
  } else if (!strcmp(tok[0], "results")) {
    results(dev);
  } else if (!strcmp(tok[0], "help")) {
    putp(dev, P("m-help-[name profile timestamp db-load-N db-HEX db-print infer-N-W results]\r\n"));
  } else {
    error(dev, P("Unknown command: "), tok[0]);
  }
}

void td_mlperf_start(const td_device *dev, const char *model) {
  memset(&ms, 0, sizeof ms);
  ms.model = model && *model ? model : "unknown";
  if (dev->counter) ms.last = dev->counter();
  putp(dev, P("m-init-done\r\nm-ready\r\n"));
}

void td_mlperf_feed(const td_device *dev, uint8_t byte) {
  if (byte == '%') {
    ms.line[ms.len] = 0;
    if (ms.overflow) error(dev, P("command too long, at most " TD_MLPERF_STR(TD_MLPERF_LINE_MAX) " characters"), 0);
    else dispatch(dev, ms.line);
    ms.len = 0;
    ms.overflow = 0;
    putp(dev, P("m-ready\r\n"));
  } else if (byte == '\r' || byte == '\n') {
    /* a terminal's line end: not part of a command */
  } else if (ms.len < TD_MLPERF_LINE_MAX) {
    ms.line[ms.len++] = (char)byte;
  } else {
    ms.overflow = 1;
  }
}
