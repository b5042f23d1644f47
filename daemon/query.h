/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* query.h: the QUERY request (proto.h). Before it prompts, the PAM module asks the daemon,
 * the one reader of the config, whether a name is apilogin's for a PAM service, and with
 * which prompt. No secret travels; a refused name is never prompted for. */
#pragma once

#include <sys/types.h>

#include "proto.h"

struct apilogind;
struct srv_reply;

/* Answer QUERY m from a caller with uid caller into rep (outcome, text = the prompt,
 * timeout). text must have room for QUERY_PROMPT_MAX + 1 bytes. */
#define QUERY_PROMPT_MAX 63
void query_handle(struct apilogind *d, uid_t caller, const struct apilogin_msg *m,
                  struct srv_reply *rep, char *text);
