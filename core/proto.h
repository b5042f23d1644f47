/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proto.h: the apilogind socket protocol, the only contract between the daemon and its
 * clients (pam_apilogin.so, apiloginctl).
 *
 * Transport: a SOCK_STREAM Unix socket (default /run/apilogin/socket, mode 0666). One
 * request, one reply, then the client may send the next request or close. The daemon
 * reads the caller's SO_PEERCRED on accept: a root caller may authenticate any name; a
 * non-root caller only its own name (rate-limited); admin requests need root.
 *
 * Framing (all integers big-endian):
 *
 *   header, 8 bytes:  u16 magic 0x414C ("AL") | u8 version | u8 type | u32 body length
 *   body:             fields, each: u8 tag | u16 length | length bytes
 *
 * The body is at most APILOGIN_PROTO_MAX_BODY bytes; a longer length in the header is a
 * protocol error and the connection is closed. A message with another version is answered
 * by a reply with outcome APILOGIN_SERVICE_ERR and closed. Strings travel without their
 * NUL and must not contain one; each tag has its own length limit (apilogin_proto_tag_max).
 * Integers are 4-byte fields. Unknown tags are skipped (forward compatibility); a tag seen
 * twice is an error. A field is absent when it is not sent.
 *
 * Requests and their fields (R = required, O = optional):
 *   QUERY   user R, service R, tty O, rhost O, provider O (never a secret)
 *           reply: outcome OK with text = the prompt to show ("Password: ", "Access
 *                  token: ", "PIN: ", after the provider's type) and timeout (ms an AUTH
 *                  may take at the daemon); or USER_UNKNOWN when the daemon will not
 *                  handle this name for this service (invalid, root, deny_users, a local
 *                  account without allow_local_users, a service not in services); or
 *                  SERVICE_ERR (no such provider). The daemon is the one reader of the
 *                  config: the PAM module asks QUERY in every phase before anything else,
 *                  and prompts only after an OK, so a refused name's secret is never
 *                  asked for. A non-root caller gets PERM_DENIED (logged) for every
 *                  name but its own.
 *   AUTH    user R, secret R, service R, tty O, rhost O, provider O
 *           reply: outcome, message (user-facing, short), uid and session (on success:
 *                  a handle naming this login, for the OPEN of the same transaction)
 *   ACCT    user R, service R
 *           reply: outcome (OK, IGNORE for users apilogin does not manage, ACCT_EXPIRED,
 *                  PERM_DENIED)
 *   OPEN    user R, service R, pid R (session leader), tty O, rhost O, session O (the
 *           AUTH reply's handle; without it the daemon matches the AUTH caller's process)
 *           reply: outcome, session (opaque id), token_file (path), uid
 *   CLOSE   user R, session O, pid O
 *           reply: outcome
 *   PING    (no fields) reply: outcome OK, text = daemon version
 *   STATUS, USERS, SESSIONS (admin), offset O (USERS, SESSIONS: the index of the first
 *           entry wanted, for the next page) reply: outcome, text (one JSON object,
 *           daemon/admin.h)
 *   USER_ADD user R (admin), USER_DEL user R (admin), FLUSH (admin): reply outcome, text
 *   TEST_LOGIN  as AUTH (same callers, same rules, the same providers and timeout), but
 *           nothing is kept: no users-table entry, no pending login, no verifier; an issued
 *           token is logged out (a wrong secret still counts towards the local lockout).
 *           reply: outcome, message, uid (only for a user known already), text =
 *           "key=value" lines: provider, endpoint (the last one asked), elapsed_ms, detail.
 *   REPLY   the type of every answer.
 *
 * Clients check the peer before sending anything: the daemon runs as root, so a socket
 * whose SO_PEERCRED uid is not 0 is not apilogind (apilogin_client_call: -EPERM).
 * QUERY, TEST_LOGIN and the timeout and offset tags were added without a version bump: an older daemon answers
 * QUERY (an unknown type) with SERVICE_ERR, and unknown tags are skipped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APILOGIN_PROTO_MAGIC 0x414C
#define APILOGIN_PROTO_VERSION 1
#define APILOGIN_PROTO_HEADER 8
#define APILOGIN_PROTO_MAX_BODY 16384
#define APILOGIN_PROTO_MAX_MSG (APILOGIN_PROTO_HEADER + APILOGIN_PROTO_MAX_BODY)

/* Longest login name apilogin accepts anywhere (PAM, daemon, NSS cache). */
#define APILOGIN_NAME_MAX 255

enum apilogin_msg_type {
        APILOGIN_REQ_AUTH = 1,
        APILOGIN_REQ_ACCT = 2,
        APILOGIN_REQ_OPEN = 3,
        APILOGIN_REQ_CLOSE = 4,
        APILOGIN_REQ_PING = 5,
        APILOGIN_REQ_QUERY = 6,
        APILOGIN_REQ_STATUS = 16,
        APILOGIN_REQ_USERS = 17,
        APILOGIN_REQ_SESSIONS = 18,
        APILOGIN_REQ_USER_ADD = 19,
        APILOGIN_REQ_USER_DEL = 20,
        APILOGIN_REQ_FLUSH = 21,
        APILOGIN_REQ_TEST_LOGIN = 22,
        APILOGIN_REPLY = 128,
};

enum apilogin_tag {
        APILOGIN_TAG_USER = 1,
        APILOGIN_TAG_SECRET = 2,
        APILOGIN_TAG_SERVICE = 3,
        APILOGIN_TAG_TTY = 4,
        APILOGIN_TAG_RHOST = 5,
        APILOGIN_TAG_PROVIDER = 6,
        APILOGIN_TAG_PID = 7,
        APILOGIN_TAG_SESSION = 8,
        APILOGIN_TAG_OUTCOME = 9,
        APILOGIN_TAG_MESSAGE = 10,
        APILOGIN_TAG_UID = 11,
        APILOGIN_TAG_TOKEN_FILE = 12,
        APILOGIN_TAG_TEXT = 13,
        APILOGIN_TAG_TIMEOUT = 14,
        APILOGIN_TAG_OFFSET = 15,
        _APILOGIN_TAG_MAX
};

/* A decoded (or to-be-encoded) message. String members are NUL-terminated; after
 * apilogin_proto_decode they point into the message's own storage. NULL = absent. */
struct apilogin_msg {
        uint8_t type;
        const char *user;
        const char *secret;
        const char *service;
        const char *tty;
        const char *rhost;
        const char *provider;
        const char *session;
        const char *message;
        const char *token_file;
        const char *text;
        bool has_pid, has_uid, has_outcome, has_timeout, has_offset;
        uint32_t pid;
        uint32_t uid;
        uint32_t outcome;
        uint32_t timeout; /* ms */
        uint32_t offset;  /* USERS, SESSIONS: first entry wanted */
        char storage[APILOGIN_PROTO_MAX_BODY + _APILOGIN_TAG_MAX];
};

/* Maximum length in bytes of a field with this tag (0 for unknown tags). */
size_t apilogin_proto_tag_max(unsigned tag);

/* Encode msg into out (outsz bytes). Returns the total length (header + body) or -EINVAL
 * for an over-long/NUL-containing field, -EMSGSIZE if the result would not fit. */
int apilogin_proto_encode(const struct apilogin_msg *msg, uint8_t *out, size_t outsz);

/* Validate a header. On success returns 0 and writes the body length and type.
 * -EBADMSG: bad magic; -EPROTONOSUPPORT: other version (ret_type still written);
 * -EMSGSIZE: body length above the limit. */
int apilogin_proto_header(const uint8_t hdr[APILOGIN_PROTO_HEADER], uint8_t *ret_type,
                          uint32_t *ret_body_len);

/* Decode one whole message (header + body, exactly len bytes) into ret. Returns 0, or
 * -EBADMSG (truncated, malformed, duplicate tag, NUL in a string, bad integer size),
 * -EMSGSIZE, -EPROTONOSUPPORT. ret is fully reset first; secrets in it must be wiped by
 * the caller with apilogin_proto_wipe. */
int apilogin_proto_decode(const uint8_t *buf, size_t len, struct apilogin_msg *ret);

/* Reset a message, wiping its storage (it may hold a secret). */
void apilogin_proto_wipe(struct apilogin_msg *msg);
