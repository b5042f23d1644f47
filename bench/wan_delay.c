/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wan_delay.c: a WAN in a box for bench/wan.sh where the kernel has no netem (sch_netem):
 * a delay line between two tun devices, one in this network namespace and one in another.
 * Every IP packet read from one device is written to the other ONE_WAY_MS later (and LOSS
 * percent of them never), so TCP and TLS handshakes pay the round trip as on a real
 * network, which a delaying TCP proxy would not show (its kernel answers the SYN at once).
 *
 *   wan_delay DEV_HERE NETNS_PATH DEV_THERE ONE_WAY_MS [LOSS_PCT]
 *
 * Both devices must exist (ip tuntap add dev NAME mode tun; persistent, so addresses and
 * routes outlive a restart with another delay). Runs until killed. Packets are delayed in
 * order (one FIFO per direction); a full FIFO drops, like a router's queue. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define QLEN 4096    /* packets in flight per direction */
#define PKT_MAX 2048 /* above the tun MTU (1500) */

struct pkt {
        uint64_t due_ns;
        uint16_t len;
        unsigned char data[PKT_MAX];
};

struct line {
        int from, to;          /* tun fds */
        struct pkt *q;         /* ring of QLEN */
        unsigned head, n;
};

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int tun_attach(const char *name)
{
        struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return -1;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Read what is there into the ring, due delay_ns from now; drop loss_pct of it. */
static void take(struct line *l, uint64_t delay_ns, unsigned loss_pct)
{
        for (;;) {
                struct pkt *p = &l->q[(l->head + l->n) % QLEN];
                unsigned char junk[PKT_MAX];
                bool full = l->n == QLEN;
                ssize_t n = read(l->from, full ? junk : p->data, PKT_MAX);

                if (n <= 0)
                        return;
                if (full || (loss_pct && (unsigned)(random() % 100) < loss_pct))
                        continue;
                p->len = (uint16_t)n;
                p->due_ns = now_ns() + delay_ns;
                l->n++;
        }
}

/* Write every packet that is due; returns ns until the next one (or -1: none waiting). */
static int64_t give(struct line *l)
{
        uint64_t now = now_ns();

        while (l->n > 0) {
                struct pkt *p = &l->q[l->head];

                if (p->due_ns > now)
                        return (int64_t)(p->due_ns - now);
                (void)write(l->to, p->data, p->len); /* a full device drops, as a link does */
                l->head = (l->head + 1) % QLEN;
                l->n--;
        }
        return -1;
}

int main(int argc, char **argv)
{
        struct line ab = { 0 }, ba = { 0 };
        uint64_t delay_ns;
        unsigned loss;
        int a, b, ns;

        if (argc < 5 || argc > 6) {
                fprintf(stderr, "usage: wan_delay DEV_HERE NETNS_PATH DEV_THERE ONE_WAY_MS [LOSS_PCT]\n");
                return 2;
        }
        delay_ns = strtoull(argv[4], NULL, 10) * 1000000u;
        loss = argc == 6 ? (unsigned)atoi(argv[5]) : 0;
        srandom(12);
        a = tun_attach(argv[1]);
        ns = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (a < 0 || ns < 0 || setns(ns, CLONE_NEWNET) < 0 || (b = tun_attach(argv[3])) < 0) {
                perror("wan_delay");
                return 1;
        }
        ab = (struct line){ .from = a, .to = b, .q = calloc(QLEN, sizeof(struct pkt)) };
        ba = (struct line){ .from = b, .to = a, .q = calloc(QLEN, sizeof(struct pkt)) };
        if (!ab.q || !ba.q)
                return 1;
        for (;;) {
                struct pollfd pfd[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
                int64_t t1 = give(&ab), t2 = give(&ba), t = t1 < 0 ? t2 : t2 < 0 || t1 < t2 ? t1 : t2;
                struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };

                if (ppoll(pfd, 2, t < 0 ? NULL : &ts, NULL) < 0 && errno != EINTR)
                        return 1;
                if (pfd[0].revents & POLLIN)
                        take(&ab, delay_ns, loss);
                if (pfd[1].revents & POLLIN)
                        take(&ba, delay_ns, loss);
        }
}
