/* Shared helpers of the wasidemo extension modules. */
#ifndef WASIDEMO_COMMON_H
#define WASIDEMO_COMMON_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* Parse a text of numbers separated by commas and/or whitespace into a newly
 * allocated array (*out, *count). Returns 0, or -1 with a Python exception set
 * (ValueError naming the bad token and its offset, or MemoryError). */
int wasidemo_parse_numbers(const char *text, Py_ssize_t len, double **out, Py_ssize_t *count);
#endif
