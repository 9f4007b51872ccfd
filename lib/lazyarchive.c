/* lib/lazyarchive.c - every libarchive function mvmbox calls, loading
 * libarchive.so.13 at the first one (lazylib.h): only an applet writing a
 * tar stream maps it and what it needs (libxml2, ICU's 30 MB of data). */
#include <archive.h>
#include <archive_entry.h>
#include "mvm.h"
#include "lazylib.h"

static struct lazylib libarchive = { .soname = "libarchive.so.13",
                                     .package = "libarchive13" };
#define A libarchive
#define AE struct archive_entry *e

LAZY_FN(A, struct archive *, archive_write_new, (void), (), NULL)
LAZY_FN(A, int, archive_write_set_format_pax, (struct archive *a), (a),
        ARCHIVE_FATAL)
LAZY_FN(A, int, archive_write_set_bytes_per_block, (struct archive *a, int n),
        (a, n), ARCHIVE_FATAL)
LAZY_FN(A, int, archive_write_set_bytes_in_last_block,
        (struct archive *a, int n), (a, n), ARCHIVE_FATAL)
LAZY_FN(A, int, archive_write_open, (struct archive *a, void *data,
        archive_open_callback *o, archive_write_callback *w,
        archive_close_callback *c), (a, data, o, w, c), ARCHIVE_FATAL)
LAZY_FN(A, int, archive_write_header, (struct archive *a, AE), (a, e),
        ARCHIVE_FATAL)
LAZY_FN(A, la_ssize_t, archive_write_data,
        (struct archive *a, const void *buf, size_t n), (a, buf, n), -1)
LAZY_FN(A, int, archive_write_finish_entry, (struct archive *a), (a),
        ARCHIVE_FATAL)
LAZY_FN(A, int, archive_write_close, (struct archive *a), (a), ARCHIVE_FATAL)
LAZY_FN(A, int, archive_write_free, (struct archive *a), (a), ARCHIVE_FATAL)
LAZY_FN(A, const char *, archive_error_string, (struct archive *a), (a),
        "libarchive.so.13 is not loaded")

LAZY_FN(A, struct archive_entry *, archive_entry_new, (void), (), NULL)
LAZY_VOID(A, archive_entry_free, (AE), (e))
LAZY_VOID(A, archive_entry_copy_pathname, (AE, const char *s), (e, s))
LAZY_VOID(A, archive_entry_copy_symlink, (AE, const char *s), (e, s))
LAZY_VOID(A, archive_entry_set_filetype, (AE, unsigned int t), (e, t))
LAZY_VOID(A, archive_entry_set_perm, (AE, __LA_MODE_T m), (e, m))
LAZY_VOID(A, archive_entry_set_uid, (AE, la_int64_t id), (e, id))
LAZY_VOID(A, archive_entry_set_gid, (AE, la_int64_t id), (e, id))
LAZY_VOID(A, archive_entry_set_size, (AE, la_int64_t n), (e, n))
LAZY_VOID(A, archive_entry_set_mtime, (AE, time_t t, long ns), (e, t, ns))
