/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reply.h: an answer to a socket request, as the handlers (login.c, sessions.c, query.c)
 * build it and server.c encodes it (proto.h), and the requester a late answer goes to. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "outcome.h"

#define SRV_SESSION_MAX 64
#define SRV_PATH_MAX 256

/* A reply; empty strings / false flags are "absent". message NULL means
 * apilogin_outcome_message(outcome). */
struct srv_reply {
        enum apilogin_outcome outcome;
        const char *message;
        bool has_uid;
        uint32_t uid;
        char session[SRV_SESSION_MAX + 1];   /* proto.h limit of the session tag */
        char token_file[SRV_PATH_MAX + 1];   /* limit of the token_file tag */
        const char *text;
        bool has_timeout;                    /* QUERY: how long an AUTH may take */
        uint32_t timeout_ms;
};

/* Who is waiting for an answer that comes later (an AUTH waits for the API): reply(peer,
 * r) answers it, once; uid and pid are its peer credentials (SO_PEERCRED). */
struct requester {
        void (*reply)(void *peer, const struct srv_reply *r);
        void *peer;
        uid_t uid;
        pid_t pid;
};
