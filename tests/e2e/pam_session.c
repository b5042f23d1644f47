/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_session.c: a minimal PAM application for the end-to-end tests, like pamtester but
 * able to run a command inside the open session (with the PAM environment, as login and
 * sshd would pass it) before closing it.
 *
 *   pam_session SERVICE USER [STEP...]
 *   STEP: auth | acct | open | close | "run:SHELL-COMMAND" | env
 *
 * The secret is read from stdin (one line), or taken from $PAM_SESSION_SECRET when that is
 * set (for bytes a line cannot carry, such as sshd's "\b\n\r\177INCORRECT"). With
 * $PAM_SESSION_SHOW_PROMPT set, each prompt is printed as "prompt: TEXT". Each step prints
 * "STEP: PAM message" and the program stops at the first failing step with exit status
 * 10 + the PAM code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <security/pam_appl.h>

static char secret[4200];

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        struct pam_response *r = calloc((size_t)n, sizeof(*r));

        (void)data;
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                switch (msg[i]->msg_style) {
                case PAM_PROMPT_ECHO_OFF:
                case PAM_PROMPT_ECHO_ON:
                        if (getenv("PAM_SESSION_SHOW_PROMPT"))
                                printf("prompt: %s\n", msg[i]->msg);
                        r[i].resp = strdup(secret);
                        break;
                default:
                        printf("conv: %s\n", msg[i]->msg);
                        break;
                }
        }
        *resp = r;
        return PAM_SUCCESS;
}

/* pam_getenvlist's copy is the caller's to free, strings and array. */
static void free_list(char **l)
{
        for (char **e = l; e && *e; e++)
                free(*e);
        free(l);
}

static int run_in_session(pam_handle_t *pamh, const char *cmd)
{
        char **env = pam_getenvlist(pamh);
        pid_t pid;
        int status = 0;

        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                for (char **e = env; e && *e; e++)
                        putenv(*e);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        free_list(env);
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int step(pam_handle_t *pamh, const char *s)
{
        if (strcmp(s, "auth") == 0)
                return pam_authenticate(pamh, 0);
        if (strcmp(s, "acct") == 0)
                return pam_acct_mgmt(pamh, 0);
        if (strcmp(s, "open") == 0)
                return pam_open_session(pamh, 0);
        if (strcmp(s, "close") == 0)
                return pam_close_session(pamh, 0);
        if (strcmp(s, "env") == 0) {
                char **env = pam_getenvlist(pamh);

                for (char **e = env; e && *e; e++)
                        printf("env: %s\n", *e);
                free_list(env);
                return PAM_SUCCESS;
        }
        if (strncmp(s, "run:", 4) == 0) {
                int rc = run_in_session(pamh, s + 4);

                printf("run: exit %d\n", rc);
                return rc == 0 ? PAM_SUCCESS : PAM_SYSTEM_ERR;
        }
        fprintf(stderr, "unknown step %s\n", s);
        exit(2);
}

int main(int argc, char **argv)
{
        struct pam_conv c = { conv, NULL };
        pam_handle_t *pamh = NULL;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: pam_session SERVICE USER [auth|acct|open|close|env|run:CMD]...\n");
                return 2;
        }
        if (getenv("PAM_SESSION_SECRET"))
                snprintf(secret, sizeof(secret), "%s", getenv("PAM_SESSION_SECRET"));
        else if (fgets(secret, sizeof(secret), stdin))
                secret[strcspn(secret, "\n")] = 0;
        r = pam_start(argv[1], argv[2], &c, &pamh);
        if (r != PAM_SUCCESS)
                return 10 + r;
        for (int i = 3; i < argc; i++) {
                r = step(pamh, argv[i]);
                printf("%s: %s\n", argv[i], pam_strerror(pamh, r));
                if (r != PAM_SUCCESS)
                        break;
        }
        fflush(stdout);
        pam_end(pamh, r);
        return r == PAM_SUCCESS ? 0 : 10 + r;
}
