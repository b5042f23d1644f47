/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apilogind.h: the state every part of the daemon shares, owned by main.c. The parts see
 * each other only through it (and through callbacks they are given), never by calling
 * back up into the module that called them. */
#pragma once

#include <stdbool.h>

#include "conf.h"

struct loop;
struct apilogin_http;
struct localusers;
struct apilogin_users;
struct lockout;
struct sessions;
struct logins;
struct server;
struct metrics;
struct metrics_file;

/* A config with a reference count: the daemon holds one reference to the current config,
 * and every login in flight holds one to the config it started with, so a reload (SIGHUP)
 * never frees a provider section under a running login. */
struct cfg_box {
        struct apilogin_config *cfg;
        unsigned refs;
};

/* Wrap cfg (taken) with one reference; NULL on ENOMEM (cfg is then freed). */
struct cfg_box *cfg_box_new(struct apilogin_config *cfg);
struct cfg_box *cfg_box_ref(struct cfg_box *b);
/* Drop a reference; the last one frees the config. Accepts NULL; returns NULL. */
struct cfg_box *cfg_box_unref(struct cfg_box *b);

struct apilogind {
        struct cfg_box *cfgbox;             /* current config */
        const struct apilogin_config *cfg;  /* == cfgbox->cfg */
        struct loop *loop;
        struct apilogin_http *http;
        struct localusers *local;           /* the local accounts (/etc/passwd) */
        struct apilogin_users *users;
        struct lockout *lockout;
        struct sessions *sessions;
        struct logins *logins;
        struct server *server;
        struct metrics *metrics;            /* counters since start (metrics.h) */
        struct metrics_file *metrics_file;  /* their writer (metrics_file.h) */
        bool stopping;                      /* SIGTERM seen: finish, accept nothing new */
};
