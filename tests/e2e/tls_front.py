# SPDX-License-Identifier: LGPL-2.1-or-later
# tls_front.py CERT KEY ADDR PORT BACKEND_PORT [PORTFILE]: a TLS 1.3 front on ADDR:PORT
# (PORT 0: any free port, written to PORTFILE once listening) relaying bytes both ways, as
# they come, to 127.0.0.1:BACKEND_PORT: a WebSocket service behind a TLS terminator, for
# tests/e2e/t_ws_auth.sh and bench/wan.sh. Nagle is off on both sides, so nothing waits
# for an ACK.
import os, select, socket, ssl, sys, threading

cert, key, addr, port, backend = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(cert, key)
ls = socket.create_server((addr, int(port)), backlog=64)
if len(sys.argv) > 6:
    with open(sys.argv[6] + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(sys.argv[6] + ".tmp", sys.argv[6])


def serve(c):
    u = None
    try:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = ctx.wrap_socket(c, server_side=True)
        u = socket.create_connection(("127.0.0.1", int(backend)))
        u.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            r = [t] if t.pending() else select.select([t, u], [], [], 600)[0]
            if not r:
                return
            for s in r:
                d = s.recv(65536)
                if not d:
                    return
                (u if s is t else t).sendall(d)
    except Exception:
        pass
    finally:
        c.close()
        if u:
            u.close()


while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
