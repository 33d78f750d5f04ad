/* Number parsing for wasidemo.num._stats. */
#include "common.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int wasidemo_parse_numbers(const char *text, Py_ssize_t len, double **out, Py_ssize_t *count) {
    Py_ssize_t cap = 16, n = 0, i = 0;
    double *vals = PyMem_Malloc(cap * sizeof(double));
    if (!vals) {
        PyErr_NoMemory();
        return -1;
    }
    char token[128];
    while (i < len) {
        while (i < len && (isspace((unsigned char)text[i]) || text[i] == ','))
            i++;
        if (i >= len)
            break;
        Py_ssize_t start = i;
        while (i < len && !isspace((unsigned char)text[i]) && text[i] != ',')
            i++;
        Py_ssize_t tlen = i - start;
        if (tlen >= (Py_ssize_t)sizeof(token)) {
            PyMem_Free(vals);
            PyErr_Format(PyExc_ValueError, "token at offset %zd is too long", start);
            return -1;
        }
        memcpy(token, text + start, tlen);
        token[tlen] = '\0';
        char *end;
        errno = 0;
        double v = strtod(token, &end);
        if (end == token || *end != '\0') {
            PyMem_Free(vals);
            PyErr_Format(PyExc_ValueError, "not a number: '%s' at offset %zd", token, start);
            return -1;
        }
        if (n == cap) {
            cap *= 2;
            double *bigger = PyMem_Realloc(vals, cap * sizeof(double));
            if (!bigger) {
                PyMem_Free(vals);
                PyErr_NoMemory();
                return -1;
            }
            vals = bigger;
        }
        vals[n++] = v;
    }
    *out = vals;
    *count = n;
    return 0;
}
