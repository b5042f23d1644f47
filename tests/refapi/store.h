/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store.h: the in-memory table of every token, session and cookie refapi has issued.
 *
 * One bounded table serves all APIs; a record is keyed by (kind, key).  It holds the
 * last STORE_CAP records: inserting into a full table evicts the oldest record
 * (a ring), so memory stays flat in long benchmarks.  Expired records are kept until
 * evicted or removed, so callers can tell "expired" from "unknown".  All functions
 * take one mutex; records are copied in and out, never shared.
 */
#ifndef REFAPI_STORE_H
#define REFAPI_STORE_H

#include <stdbool.h>

/* 524288 records: bench/refresh.sh keeps 100,000 sessions' token pairs live, and every
 * refresh adds a pair while the replaced token waits for eviction (~75 MB at most, touched
 * only as the ring fills). */
#define STORE_CAP (1u << 19)
#define STORE_KEY_MAX 48                /* longest key + NUL: "1*" + 40 hex */

enum store_kind {
        SK_LC_TOKEN = 1,                /* login_check token */
        SK_LC_REFRESH,                  /* login_check refresh token, peer = token */
        SK_WIALON_SID,                  /* Wialon eid; idle-timed */
        SK_JR_TOKEN,                    /* JSON-RPC access_token */
        SK_REST_ACCESS,                 /* PortSIP access token, peer = refresh token */
        SK_REST_REFRESH,                /* PortSIP refresh token, peer = access token */
        SK_REST_COOKIE,                 /* PortSIP session cookie, peer = access token */
        SK_WS_TOKEN,                    /* TrueConf "1*" token, aux = privileges */
        SK_WS_HTTP,                     /* TrueConf tokenForHttpServer "4*", peer = its 1* token
                                           ("" after a password auth: none yet), aux = privileges */
        SK_O2_ACCESS,                   /* OAuth 2.0 access token, peer = its refresh token */
        SK_O2_REFRESH,                  /* OAuth 2.0 refresh token (single use: rotated) */
};

struct store_rec {
        enum store_kind kind;
        int acct;                       /* account index in its section */
        int aux;                        /* kind-specific (subuser, privileges) */
        long long created;              /* ms since the epoch (now_ms()) */
        long long expires;              /* ms since the epoch; live while expires > now */
        long long idle;                 /* ms; > 0: each store_get() pushes expires to now+idle */
        char key[STORE_KEY_MAX];
        char peer[STORE_KEY_MAX];       /* linked key, "" if none */
};

enum store_status {
        STORE_MISSING,
        STORE_EXPIRED,
        STORE_LIVE,
};

/* Allocates the table.  Returns 0 or -ENOMEM. */
int store_init(void);
void store_free(void);

/* Copies rec in (replacing a record with the same kind and key). */
void store_put(const struct store_rec *rec);

/* Looks (kind, key) up; copies it to *ret (may be NULL) unless STORE_MISSING.  A live
 * record with idle > 0 gets its expiry pushed to now + idle. */
enum store_status store_get(enum store_kind kind, const char *key, struct store_rec *ret);

/* Like store_get() but removes the record (no idle refresh). */
enum store_status store_take(enum store_kind kind, const char *key, struct store_rec *ret);

/* Removes every record of kind.  Returns how many were removed. */
int store_drop_kind(enum store_kind kind);

#endif
