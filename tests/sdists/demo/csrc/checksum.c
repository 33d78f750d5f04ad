/* wasidemo._checksum: CRC-32 (IEEE 802.3), Adler-32 and 64-bit FNV-1a. */
#include "common.h"

#ifndef WASIDEMO_CHECKSUM
#error "WASIDEMO_CHECKSUM must be defined by the build (tests `defines`)"
#endif

static uint32_t crc_table[256];

static void init_crc_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static PyObject *crc32(PyObject *self, PyObject *args) {
    Py_buffer buf;
    unsigned long start = 0;
    if (!PyArg_ParseTuple(args, "y*|k", &buf, &start))
        return NULL;
    uint32_t c = (uint32_t)start ^ 0xFFFFFFFFu;
    const unsigned char *p = buf.buf;
    for (Py_ssize_t i = 0; i < buf.len; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong(c ^ 0xFFFFFFFFu);
}

static PyObject *adler32(PyObject *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf))
        return NULL;
    uint32_t a = 1, b = 0;
    const unsigned char *p = buf.buf;
    for (Py_ssize_t i = 0; i < buf.len; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong((b << 16) | a);
}

static PyObject *fnv1a64(PyObject *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf))
        return NULL;
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = buf.buf;
    for (Py_ssize_t i = 0; i < buf.len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLongLong(h);
}

static PyMethodDef methods[] = {
    {"crc32", crc32, METH_VARARGS, "crc32(data, start=0) -> int: CRC-32 as zlib.crc32."},
    {"adler32", adler32, METH_VARARGS, "adler32(data) -> int: Adler-32 as zlib.adler32."},
    {"fnv1a64", fnv1a64, METH_VARARGS, "fnv1a64(data) -> int: 64-bit FNV-1a hash."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_checksum", "Checksums in C.", -1, methods};

PyMODINIT_FUNC PyInit__checksum(void) {
    init_crc_table();
    return PyModule_Create(&module);
}
