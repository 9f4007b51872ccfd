/* lib/ssh/lazyssh2.c - every libssh2 function mvmbox calls, loading
 * libssh2.so.1 at the first one (lazylib.h): linked, libssh2 and the
 * libcrypto it needs cost every applet about one libc-only start (issue
 * 19), though only the applets that open an SSH session use them. */
#include <libssh2.h>
#include "mvm.h"
#include "sshint.h"
#include "lazylib.h"

static struct lazylib libssh2 = { .soname = "libssh2.so.1",
                                  .package = "libssh2-1" };
#define L libssh2
#define S LIBSSH2_SESSION *s
#define C LIBSSH2_CHANNEL *c
#define AG LIBSSH2_AGENT *a
#define KH LIBSSH2_KNOWNHOSTS *k
#define FAIL LIBSSH2_ERROR_ALLOC      /* "could not get going": no memory */

LAZY_FN(L, int, libssh2_init, (int flags), (flags), FAIL)
LAZY_FN(L, LIBSSH2_SESSION *, libssh2_session_init_ex,
        (LIBSSH2_ALLOC_FUNC((*al)), LIBSSH2_FREE_FUNC((*fr)),
         LIBSSH2_REALLOC_FUNC((*re)), void *abstract),
        (al, fr, re, abstract), NULL)
LAZY_FN(L, void *, libssh2_session_callback_set, (S, int type, void *cb),
        (s, type, cb), NULL)
LAZY_FN(L, int, libssh2_session_method_pref, (S, int type, const char *p),
        (s, type, p), FAIL)
LAZY_FN(L, const char *, libssh2_session_methods, (S, int type), (s, type),
        NULL)
LAZY_FN(L, int, libssh2_session_handshake, (S, libssh2_socket_t fd), (s, fd),
        FAIL)
LAZY_FN(L, const char *, libssh2_session_hostkey, (S, size_t *n, int *type),
        (s, n, type), NULL)
LAZY_FN(L, const char *, libssh2_hostkey_hash, (S, int type), (s, type), NULL)
LAZY_VOID(L, libssh2_session_set_blocking, (S, int on), (s, on))
LAZY_VOID(L, libssh2_session_set_timeout, (S, long ms), (s, ms))
LAZY_FN(L, int, libssh2_session_block_directions, (S), (s), 0)
LAZY_FN(L, int, libssh2_session_last_errno, (S), (s), FAIL)
LAZY_FN(L, int, libssh2_session_last_error,
        (S, char **msg, int *n, int want_buf), (s, msg, n, want_buf), FAIL)
LAZY_FN(L, int, libssh2_session_disconnect_ex,
        (S, int why, const char *text, const char *lang), (s, why, text, lang),
        FAIL)
LAZY_FN(L, int, libssh2_session_free, (S), (s), FAIL)
LAZY_VOID(L, libssh2_free, (S, void *p), (s, p))
LAZY_VOID(L, libssh2_keepalive_config, (S, int reply, unsigned secs),
          (s, reply, secs))
LAZY_FN(L, int, libssh2_keepalive_send, (S, int *next), (s, next), FAIL)

LAZY_FN(L, char *, libssh2_userauth_list, (S, const char *u, unsigned n),
        (s, u, n), NULL)
LAZY_FN(L, int, libssh2_userauth_authenticated, (S), (s), 0)
LAZY_FN(L, int, libssh2_userauth_publickey_fromfile_ex,
        (S, const char *u, unsigned n, const char *pub, const char *priv,
         const char *pass), (s, u, n, pub, priv, pass), FAIL)
LAZY_FN(L, LIBSSH2_AGENT *, libssh2_agent_init, (S), (s), NULL)
LAZY_FN(L, int, libssh2_agent_connect, (AG), (a), FAIL)
LAZY_FN(L, int, libssh2_agent_list_identities, (AG), (a), FAIL)
LAZY_FN(L, int, libssh2_agent_get_identity,
        (AG, struct libssh2_agent_publickey **id,
         struct libssh2_agent_publickey *prev), (a, id, prev), FAIL)
LAZY_FN(L, int, libssh2_agent_userauth,
        (AG, const char *u, struct libssh2_agent_publickey *id), (a, u, id),
        FAIL)
LAZY_FN(L, int, libssh2_agent_disconnect, (AG), (a), FAIL)
LAZY_VOID(L, libssh2_agent_free, (AG), (a))
LAZY_FN(L, LIBSSH2_KNOWNHOSTS *, libssh2_knownhost_init, (S), (s), NULL)
LAZY_FN(L, int, libssh2_knownhost_readfile, (KH, const char *f, int type),
        (k, f, type), FAIL)
LAZY_FN(L, int, libssh2_knownhost_checkp,
        (KH, const char *h, int port, const char *key, size_t n, int mask,
         struct libssh2_knownhost **found), (k, h, port, key, n, mask, found),
        LIBSSH2_KNOWNHOST_CHECK_FAILURE)
LAZY_VOID(L, libssh2_knownhost_free, (KH), (k))

LAZY_FN(L, LIBSSH2_CHANNEL *, libssh2_channel_open_ex,
        (S, const char *type, unsigned tn, unsigned window, unsigned packet,
         const char *msg, unsigned mn), (s, type, tn, window, packet, msg, mn),
        NULL)
LAZY_FN(L, int, libssh2_channel_process_startup,
        (C, const char *req, unsigned rn, const char *msg, unsigned mn),
        (c, req, rn, msg, mn), FAIL)
LAZY_FN(L, ssize_t, libssh2_channel_read_ex,
        (C, int stream, char *buf, size_t n), (c, stream, buf, n), FAIL)
LAZY_FN(L, ssize_t, libssh2_channel_write_ex,
        (C, int stream, const char *buf, size_t n), (c, stream, buf, n), FAIL)
LAZY_FN(L, unsigned long, libssh2_channel_window_write_ex,
        (C, unsigned long *initial), (c, initial), 0)
LAZY_FN(L, int, libssh2_channel_eof, (C), (c), FAIL)
LAZY_FN(L, int, libssh2_channel_send_eof, (C), (c), FAIL)
LAZY_FN(L, int, libssh2_channel_close, (C), (c), FAIL)
LAZY_FN(L, int, libssh2_channel_wait_closed, (C), (c), FAIL)
LAZY_FN(L, int, libssh2_channel_get_exit_status, (C), (c), 0)
LAZY_FN(L, int, libssh2_channel_get_exit_signal,
        (C, char **sig, size_t *sn, char **msg, size_t *mn, char **lang,
         size_t *ln), (c, sig, sn, msg, mn, lang, ln), FAIL)
LAZY_FN(L, int, libssh2_channel_free, (C), (c), FAIL)
