/* Minimal math.h for the freestanding Xtensa build (implemented in support/xtensa/libc.c). */
#ifndef TD_XTENSA_MATH_H
#define TD_XTENSA_MATH_H
#ifdef __cplusplus
extern "C" {
#endif
float roundf(float x);
float floorf(float x);
float ceilf(float x);
float fabsf(float x);
float fminf(float a, float b);
float fmaxf(float a, float b);
#ifdef __cplusplus
}
#endif
#endif
