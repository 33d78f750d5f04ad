/* Hand-written config.h for building liblzma (xz 5.8.1) as a static library
 * for wasm32-wasip1 with WASI SDK 25 (wasi-libc, clang 19).
 * Equivalent to the default CMake/autotools feature set minus threads:
 * all encoders/decoders/match finders/checks, lzip + MicroLZMA decoders,
 * no assembly, no CPU-specific CRC code, no NLS. */

/* Standard headers and types (C99, wasi-libc). */
#define HAVE_STDBOOL_H 1
#define HAVE__BOOL 1
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_STDIO_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define HAVE_STRINGS_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define HAVE_UINTPTR_T 1
#define STDC_HEADERS 1
#define SIZEOF_SIZE_T 4              /* wasm32 */
/* little endian: WORDS_BIGENDIAN stays undefined */

/* Integrity checks (CRC32 is mandatory). Portable table-based code. */
#define HAVE_CHECK_CRC32 1
#define HAVE_CHECK_CRC64 1
#define HAVE_CHECK_SHA256 1

/* Match finders. */
#define HAVE_MF_HC3 1
#define HAVE_MF_HC4 1
#define HAVE_MF_BT2 1
#define HAVE_MF_BT3 1
#define HAVE_MF_BT4 1

/* Encoders / decoders: every filter. */
#define HAVE_ENCODERS 1
#define HAVE_DECODERS 1
#define HAVE_ENCODER_LZMA1 1
#define HAVE_ENCODER_LZMA2 1
#define HAVE_ENCODER_DELTA 1
#define HAVE_ENCODER_X86 1
#define HAVE_ENCODER_ARM 1
#define HAVE_ENCODER_ARMTHUMB 1
#define HAVE_ENCODER_ARM64 1
#define HAVE_ENCODER_POWERPC 1
#define HAVE_ENCODER_IA64 1
#define HAVE_ENCODER_SPARC 1
#define HAVE_ENCODER_RISCV 1
#define HAVE_DECODER_LZMA1 1
#define HAVE_DECODER_LZMA2 1
#define HAVE_DECODER_DELTA 1
#define HAVE_DECODER_X86 1
#define HAVE_DECODER_ARM 1
#define HAVE_DECODER_ARMTHUMB 1
#define HAVE_DECODER_ARM64 1
#define HAVE_DECODER_POWERPC 1
#define HAVE_DECODER_IA64 1
#define HAVE_DECODER_SPARC 1
#define HAVE_DECODER_RISCV 1
#define HAVE_LZIP_DECODER 1

/* Compiler features (clang). */
#define HAVE___BUILTIN_BSWAPXX 1
#define HAVE___BUILTIN_ASSUME_ALIGNED 1
#define HAVE_VISIBILITY 0            /* static library: no export control */

/* Threads: none (wasm32-wasip1 without wasi-threads). No MYTHREAD_*,
 * so mythread.h uses its single-threaded stubs and the MT encoder/decoder
 * (stream_{en,de}coder_mt.c, outqueue.c, hardware_cputhreads.c,
 * tuklib_cpucores.c) are not compiled. */
#define HAVE_CLOCK_GETTIME 1
#define HAVE_CLOCK_MONOTONIC 1

/* lzma_physmem(): no TUKLIB_PHYSMEM_* method, so it returns 0 ("unknown").
 * Do NOT use TUKLIB_PHYSMEM_SYSCONF: wasi-libc (SDK 25) answers
 * sysconf(_SC_PAGESIZE)=65536 but sysconf(_SC_PHYS_PAGES)=-248, and
 * lzma_physmem() then returns 18446744073693298688. */
#define TUKLIB_SYMBOL_PREFIX lzma_

/* Package info. */
#define PACKAGE "xz"
#define PACKAGE_NAME "XZ Utils"
#define PACKAGE_TARNAME "xz"
#define PACKAGE_VERSION "5.8.1"
#define PACKAGE_STRING "XZ Utils 5.8.1"
#define PACKAGE_BUGREPORT "xz@tukaani.org"
#define PACKAGE_URL "https://tukaani.org/xz/"
#define VERSION "5.8.1"
