/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_cycles.c: N whole PAM conversations in one process, as sshd has one per connection
 * (pam_start, authenticate, acct_mgmt, open_session, close_session, pam_end), so that
 * valgrind can compare what a process has lost after 1 and after N of them
 * (tests/e2e/t_valgrind.sh).
 *
 *   pam_cycles SERVICE USER N
 *
 * The secret is read from stdin (one line). Prints "cycles=N ok=A failed=B" and exits 0
 * only when every step of every cycle succeeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <security/pam_appl.h>

static char secret[4200];

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        struct pam_response *r = calloc((size_t)n, sizeof(*r));

        (void)data;
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++)
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
                    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
                        r[i].resp = strdup(secret);
        *resp = r;
        return PAM_SUCCESS;
}

/* One connection's worth of PAM; the first failing step's code. */
static int cycle(const char *svc, const char *user)
{
        struct pam_conv c = { conv, NULL };
        pam_handle_t *pamh = NULL;
        int r = pam_start(svc, user, &c, &pamh);

        if (r != PAM_SUCCESS)
                return r;
        r = pam_authenticate(pamh, 0);
        if (r == PAM_SUCCESS)
                r = pam_acct_mgmt(pamh, 0);
        if (r == PAM_SUCCESS)
                r = pam_open_session(pamh, 0);
        if (r == PAM_SUCCESS)
                r = pam_close_session(pamh, 0);
        pam_end(pamh, r);
        return r;
}

int main(int argc, char **argv)
{
        int n, ok = 0;

        if (argc != 4 || (n = atoi(argv[3])) < 1) {
                fprintf(stderr, "usage: pam_cycles SERVICE USER N\n");
                return 2;
        }
        if (fgets(secret, sizeof(secret), stdin))
                secret[strcspn(secret, "\n")] = 0;
        for (int i = 0; i < n; i++)
                ok += cycle(argv[1], argv[2]) == PAM_SUCCESS;
        printf("cycles=%d ok=%d failed=%d\n", n, ok, n - ok);
        return ok == n ? 0 : 1;
}
