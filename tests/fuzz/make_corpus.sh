#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make_corpus.sh: (re)create the seed corpora under tests/fuzz/corpus/<target>/ from the
# fixtures in tests/data/ and from valid messages and cache files made by the project's own
# encoders (gen_seeds.c). The output is committed; run this only to refresh it.
set -euo pipefail
cd "$(dirname "$0")/../.."
c=tests/fuzz/corpus
rm -rf "$c"
mkdir -p "$c"/{proto,ws,http_header,conf,cache,login_check,token_login,jsonrpc,rest_login,ws_auth}

# proto + cache: encoded by apilogin_proto_encode / written by apilogin_cache_write
cc -std=gnu11 -I. -Icore -DAPILOGIN_STATEDIR=\"/var/lib/apilogin\" -o tests/fuzz/gen_seeds \
        tests/fuzz/gen_seeds.c core/proto.c core/secure.c core/cache.c core/names.c \
        core/arena.c core/uidhash.c daemon/cache_write.c daemon/fsutil.c -lcdb
tests/fuzz/gen_seeds "$c"
rm -f tests/fuzz/gen_seeds

python3 - "$c" <<'PY'
import os, struct, sys
c = sys.argv[1]

def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(c, target, name), "wb") as f:
        f.write(data)

# --- ws: byte 0 read size, byte 1 bit 0 match requestId "7", then the server's bytes
hs = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").encode()
def frame(op, payload, fin=True):
    n = len(payload)
    h = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        h += bytes([n])
    elif n < 65536:
        h += bytes([126]) + struct.pack(">H", n)
    else:
        h += bytes([127]) + struct.pack(">Q", n)
    return h + payload
reply = b'{"method":"auth","requestId":"7","previleges":1,"token":"abc","result":true,"resultCode":0}'
event = b'{"method":"event","requestId":"0","data":{}}'
put("ws", "reply", b"\x00\x01" + hs + frame(1, reply))
put("ws", "reply_split", b"\x07\x01" + hs + frame(1, reply))
put("ws", "event_then_reply", b"\x00\x01" + hs + frame(1, event) + frame(1, reply))
put("ws", "ping_frag", b"\x00\x00" + hs + frame(9, b"hi") + frame(1, reply[:10], False)
    + frame(10, b"") + frame(0, reply[10:]))
put("ws", "close", b"\x00\x01" + hs + frame(8, b"\x03\xe8bye"))
put("ws", "not_json", b"\x00\x00" + hs + frame(1, b"<html>oops</html>"))
put("ws", "long16", b"\x00\x00" + hs + frame(1, b'"' + b"x" * 300 + b'"'))
put("ws", "handshake_403", b"\x00\x01HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
put("ws", "handshake_bad_accept", b"\x00\x01" + hs.replace(b"s3pP", b"AAAA") + frame(1, reply))

# --- http_header: raw header lines as curl hands them over
put("http_header", "cookie", "HTTP/1.1 200 OK\r\nSet-Cookie: SESSION=abc123; Path=/; HttpOnly\r\n"
    "Content-Type: application/json\r\n\r\n")
put("http_header", "retry_secs", "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\n\r\n")
put("http_header", "retry_date", "HTTP/1.1 503 Service Unavailable\r\n"
    "Retry-After: Fri, 31 Dec 2038 23:59:59 GMT\r\n\r\n")
put("http_header", "continue", "HTTP/1.1 100 Continue\r\nSet-Cookie: a=b\r\n\r\n"
    "HTTP/1.1 401 Unauthorized\r\nset-cookie: sid=\"q\"\r\nretry-after:   7  \r\n\r\n")

# --- conf: the test fixtures and the shipped example are copied by the shell part

# --- providers: byte 0 status index, byte 1 flags (fuzz_provider.c), then the body
ST = {200: 0, 201: 1, 400: 3, 401: 4, 403: 5, 404: 6, 422: 8, 429: 9, 500: 10, 503: 12}
def fixture(name):
    with open(os.path.join("tests/data", name), "rb") as f:
        return f.read()
for fn in sorted(os.listdir("tests/data")):
    target = {"lc": "login_check", "tl": "token_login", "jr": "jsonrpc",
              "rl": "rest_login"}.get(fn[:2])
    if not target:
        continue
    body = fixture(fn)
    base = fn.rsplit(".", 1)[0]
    statuses = [200]
    if "error" in fn and target in ("login_check", "rest_login"):
        statuses = [400, 401, 403, 422, 429]
    for st in statuses:
        put(target, "%s_%d" % (base, st), bytes([ST[st], 0]) + body)
    if target == "token_login" and "avl_evts" in fn:
        put(target, base + "_refresh", bytes([ST[200], 4]) + body)
    if target == "login_check" and "success" in fn:
        put(target, base + "_refresh", bytes([ST[200], 4]) + body)
    if target == "rest_login" and ("token" in fn or "get_login" in fn):
        put(target, base + "_step1", bytes([ST[200], 1 | 8]) + body)
        put(target, base + "_refresh", bytes([ST[200], 4]) + body)
wa_ok = '{"method":"auth","requestId":"apilogin-auth-1","previleges":1,"token":"tok","tokenForHttpServer":"h","result":true,"resultCode":0}'
wa_admin = wa_ok.replace('"previleges":1', '"previleges":2')
put("ws_auth", "ok_user", bytes([0x0d, 0]) + wa_ok.encode())
put("ws_auth", "ok_admin", bytes([0x0d, 16]) + wa_admin.encode())
for code in (1, 2, 3, 5, 12):
    put("ws_auth", "code_%d" % code, bytes([0x0d, 0]) +
        ('{"method":"auth","requestId":"apilogin-auth-1","result":false,"resultCode":%d}' % code).encode())
PY

cp tests/data/conf_*.conf etc/apilogin.conf "$c/conf/"
du -sh "$c"
