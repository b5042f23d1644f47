/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* admin.h: the admin requests of apiloginctl (root only; server.c checks the caller):
 * STATUS, USERS and SESSIONS answer with one JSON object in the reply's text (the CLI
 * prints it as it is with --json, or as tables), USER_ADD, USER_DEL and FLUSH change the
 * users table. The JSON is built with cJSON from our own state: strings that came from an
 * API (display names) are escaped by it, so the text is always valid JSON. A list answers
 * one page: the entries from the request's offset on that fit the text field (8 KiB);
 * "total" counts every entry, "more" those after the page, which the next request asks
 * for with offset + the number shown.
 *
 * Objects (keys always present; times are unix seconds, null = never):
 *   status:   version, config, pid, started_at, uptime_s, providers[] {name, type,
 *             state "online"|"offline"|"unknown", last_success, last_error,
 *             last_error_reason}, users, sessions, session_users, pending_logins,
 *             offline {enabled, session_users, logins}, logins {OUTCOME: count, ...},
 *             refreshes {ok, failed, expired}, logins_in_flight, transfers_in_flight,
 *             background_logouts, clients, client_limits {root, other, per_uid},
 *             lockout_entries, metrics_file
 *   users:    users[] {name, uid, gecos, provider, last_login, disabled, sessions}, offset,
 *             total, more
 *   sessions: sessions[] {user, uid, id, service, tty, rhost, pid, opened_at, provider,
 *             state "online"|"offline"|"expired"|"no token"}, offset, total, more
 */
#pragma once

#include <stddef.h>

#include "proto.h"

struct apilogind;
struct srv_reply;

/* What the server knows about its own clients, for status. */
struct admin_server_info {
        unsigned clients, root_max, nonroot_max, per_uid_max;
};

/* Handle the admin request m into rep, its text written to buf (n bytes). */
void admin_handle(struct apilogind *d, const struct admin_server_info *si,
                  const struct apilogin_msg *m, struct srv_reply *rep, char *buf, size_t n);
