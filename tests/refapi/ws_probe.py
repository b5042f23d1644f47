#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ws_probe.py: a tiny WebSocket client (standard library only) for refapi's ws_auth API.

  ws_probe.py PORT [--path /ws] [--timeout S] [MESSAGE ...]
      connect, print the greeting, send each MESSAGE (a JSON text) and print one
      reply line per message ("<timeout>" or "<closed>" when none comes).
  ws_probe.py PORT --check
      run the built-in scenario against tests/refapi/accounts.example.json
      (user_password 1234, admin_password 9999); exit 0 when every check passes.
"""
import base64
import hashlib
import json
import os
import socket
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WS:
    def __init__(self, port, path="/", timeout=3.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16))
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        self.status = head.split("\r\n")[0]
        want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if " 101 " not in self.status or want not in head:
            raise RuntimeError("bad handshake: " + head)

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("closed")
        self.buf += data

    def _read(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, payload, opcode=1, mask=True, fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head += bytes([mbit | n])
        elif n < 65536:
            head += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            head += bytes([mbit | 127]) + struct.pack(">Q", n)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        self.sock.sendall(head + payload)

    def recv(self):
        """Returns (opcode, payload bytes) of the next frame."""
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        if b1 & 0x80:
            raise RuntimeError("server frame is masked")
        return b0 & 0x0F, self._read(n)

    def recv_json(self):
        op, data = self.recv()
        if op != 1:
            raise RuntimeError(f"expected text frame, got opcode {op}")
        return json.loads(data)

    def call(self, msg):
        self.send(json.dumps(msg))
        return self.recv_json()

    def close(self):
        self.sock.close()


def auth(ws, cred=None, role=None, type_="secured", rid="1"):
    m = {"method": "auth", "requestId": rid}
    if type_ is not None:
        m["type"] = type_
    if cred is not None:
        m["credentials"] = cred
    if role is not None:
        m["role"] = role
    return ws.call(m)


def check(port):
    fails = 0

    def expect(name, cond, got):
        nonlocal fails
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {got}"))
        fails += 0 if cond else 1

    ws = WS(port, "/ws")
    hello = ws.recv_json()
    expect("greeting", hello == {"method": "event", "event": "appStateChanged",
                                 "appState": 3}, hello)
    r = ws.call({"method": "getTokenForHttpServer", "requestId": "g0"})
    expect("getTokenForHttpServer before auth fails", r.get("result") is False, r)
    cases = [("wrong password -> 8", dict(cred="0000"), 8),
             ("empty credentials -> 7", dict(cred=""), 7),
             ("type missing -> 11", dict(cred="1234", type_=None), 11),
             ("credentials missing -> 12", dict(), 12),
             ("bad role -> 9", dict(cred="1234", role="root"), 9),
             ("bad type -> 10", dict(cred="1234", type_="weird"), 10),
             ("unsecured not allowed -> 4", dict(type_="unsecured"), 4),
             ("admin password as user -> 5", dict(cred="9999", role="user"), 5)]
    for name, kw, code in cases:
        r = auth(ws, **kw)
        expect(name, r.get("result") is False and r.get("resultCode") == code, r)
    r = auth(ws, "1234", "user", rid="u1")
    expect("user password -> privileges 1",
           r.get("result") is True and r.get("previleges") == 1 and r.get("requestId") == "u1"
           and r["token"].startswith("1*") and r["tokenForHttpServer"].startswith("4*"), r)
    r = auth(ws, "9999", rid=7)
    expect("admin password -> privileges 2", r.get("previleges") == 2 and r.get("requestId") == 7, r)
    token = r.get("token", "")
    r = ws.call({"method": "getTokenForHttpServer", "requestId": "g1"})
    expect("getTokenForHttpServer", r.get("result") is True and
           r.get("tokenForHttpServer", "").startswith("4*") and r.get("requestId") == "g1", r)
    ws.send(b"hi", opcode=9)
    op, data = ws.recv()
    expect("ping -> pong", op == 10 and data == b"hi", (op, data))
    ws.send('{"method":"auth","requestId":"f","type":"secured",', opcode=1, fin=False)
    ws.send(b"hello", opcode=9)
    op, data = ws.recv()
    expect("ping between fragments", op == 10, (op, data))
    ws.send('"credentials":"1234"}', opcode=0)
    r = ws.recv_json()
    expect("fragmented message", r.get("previleges") == 1, r)
    ws.send(struct.pack(">H", 1000), opcode=8)
    op, data = ws.recv()
    expect("close echoed", op == 8 and data == struct.pack(">H", 1000), (op, data))
    ws.close()

    ws = WS(port, "/")
    ws.recv_json()
    r = auth(ws, token, rid="t")
    expect("token re-auth keeps privileges and token",
           r.get("previleges") == 2 and r.get("token") == token, r)
    r = ws.call({"method": "clearTokens", "requestId": "c"})
    expect("clearTokens", r.get("result") is True, r)
    r = auth(ws, token)
    expect("token dead after clearTokens -> 8", r.get("resultCode") == 8, r)
    ws.send('{"method":"auth"}', mask=False)
    op, data = ws.recv()
    expect("unmasked frame -> close 1002", op == 8 and data[:2] == struct.pack(">H", 1002),
           (op, data))
    ws.close()

    ws = WS(port, "/ws")
    ws.recv_json()
    ws.send("x" * 70000)
    op, data = ws.recv()
    expect("70000-byte frame -> close 1009", op == 8 and data[:2] == struct.pack(">H", 1009),
           (op, data))
    ws.close()
    return 1 if fails else 0


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    port, path, timeout, msgs = int(argv[1]), "/", 3.0, []
    args = argv[2:]
    if args == ["--check"]:
        return check(port)
    while args:
        a = args.pop(0)
        if a == "--path":
            path = args.pop(0)
        elif a == "--timeout":
            timeout = float(args.pop(0))
        else:
            msgs.append(a)
    ws = WS(port, path, timeout)
    print(ws.recv()[1].decode())
    for m in msgs:
        ws.send(m)
        try:
            op, data = ws.recv()
            print(data.decode(errors="replace") if op == 1 else f"<opcode {op}> {data!r}")
        except socket.timeout:
            print("<timeout>")
        except EOFError:
            print("<closed>")
    ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
