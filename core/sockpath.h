/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sockpath.h: the socket path for the clients of apilogind (pam_apilogin.so, apiloginctl).
 * The daemon is the one reader of the config; a client needs only where to find it: an
 * explicit path, else the socket key of [global] in a config file, else the compiled-in
 * default. The file is read with a tiny line reader that looks at that one key and
 * ignores everything else, so a typo saved in the file cannot break a client. */
#pragma once

#include <stddef.h>

#define APILOGIN_SOCKET_DEFAULT APILOGIN_RUNDIR "/socket"

/* Find "socket = PATH" in the [global] section of the file at config_path and copy PATH
 * into buf (n bytes). Returns 0, -ENOENT when the file has no such key (or the value is
 * not an absolute path that fits), or the -errno of opening/reading the file. Lines are
 * "key = value" with "#" or ";" starting a comment (a whole line, or after the value
 * when preceded by a blank); over-long lines are skipped. Never logs. */
int apilogin_socket_from_config(const char *config_path, char *buf, size_t n);

/* One line of the config file as both readers (this one and core/conf.c) see it: without
 * indentation, without a comment ("#" or ";" at the start or after a blank) and without
 * trailing blanks, cut in place. Returns where the rest starts (possibly ""). One
 * function, so that the client and the daemon can never disagree on what is a comment. */
char *apilogin_config_line_clean(char *s);

/* The longest line either reader takes, comments cut: a 4096-byte value, its key and
 * blanks. */
#define APILOGIN_CONFIG_LINE_MAX 4200
