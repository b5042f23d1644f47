/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_session.h: one thread per upgraded WebSocket connection (TrueConf "auth" API).
 *
 * api_ws_auth.c answers the HTTP handshake; MHD then calls ws_session_start() with
 * the raw socket.  A detached thread runs the frame loop and the JSON methods.  The
 * sessions are registered so ws_sessions_stop() can shut their sockets down and wait
 * for them before MHD_stop_daemon().
 */
#ifndef REFAPI_WS_SESSION_H
#define REFAPI_WS_SESSION_H

#include <stddef.h>

#include <microhttpd.h>

/* MHD_UpgradeHandler for MHD_create_response_for_upgrade(); cls is the request
 * path ("/" or "/ws") as a static string, used to look up faults. */
void ws_session_start(void *cls, struct MHD_Connection *conn, void *con_cls,
                      const char *extra_in, size_t extra_in_size, MHD_socket sock,
                      struct MHD_UpgradeResponseHandle *urh);

/* What api_ws_auth.c remembers about one connection. */
struct ws_auth_state {
        int priv;                       /* 0 = not authenticated, 1 = user, 2 = admin */
        char token[48];                 /* the 1* token of this connection's auth, "" none */
};

/* Handles one text message of a session (api_ws_auth.c).  Returns the reply text
 * (caller frees), or NULL if there is nothing to send. */
char *ws_auth_message(struct ws_auth_state *st, const char *text, size_t len);

/* Wakes every session (shutdown(2) on its socket) and waits up to 2 s for all of
 * them to end.  No new sessions start afterwards. */
void ws_sessions_stop(void);

#endif
