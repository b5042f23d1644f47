#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""smoke.py: end-to-end check of a refapi binary (standard library only).

  smoke.py PATH/TO/refapi [--rounds N]

Starts refapi on an ephemeral port with a temporary accounts file, exercises every
endpoint, error and fault (HTTP through one keep-alive connection, WebSocket through
ws_probe.py), repeats the request mix N times (default 3), stops it with SIGTERM and
checks it exits 0 with an empty stderr (so it doubles as an ASan/valgrind harness).
Exit status 0 = all checks passed.
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_probe  # noqa: E402

BOB = "e0f36a30bbfb6299571c8694047fe5dd81228b7d75679a8cca68e551fb7e9a2f4edc5d20"
BORIS = "1a1cc24070ae45cf4ba8299f43dc4d15dfc9dab5a81216dfeaf864e14b0f2b726fd746d2"
LIMITED = "2" * 72
ACCOUNTS = {
    "token_ttl": 2, "session_idle": 2,
    "login_check": [{"username": "alice", "password": "alice-pw", "display_name": "Alice"},
                    {"username": "dave", "password": "dave-pw", "disabled": True},
                    {"username": "rita", "password": "rita-pw", "rate_limited": True}],
    "token_login": [{"token": BOB, "user": "bob", "display_name": "Bob B",
                     "subusers": ["carol"]},
                    {"token": BORIS, "user": "boris", "disabled": True},
                    {"token": LIMITED, "user": "lim", "rate_limited": True}],
    "jsonrpc": [{"login": "erin", "password": "erin-pw"},
                {"login": "ivan", "password": "ivan-pw", "disabled": True},
                {"login": "lena", "password": "lena-pw", "rate_limited": True},
                {"login": "ipek", "password": "ipek-pw", "ip_blocked": True}],
    "rest_login": [{"username": "1001", "password": "frank-pw", "domain": "t.example.com",
                    "role": "Admin"},
                   {"username": "1002", "password": "gina-pw", "domain": "t.example.com",
                    "cookie_flow": True},
                   {"username": "1003", "password": "hugo-pw", "disabled": True},
                   {"username": "1004", "password": "x", "rate_limited": True}],
    "ws_auth": {"user_password": "1234", "admin_password": "9999"},
    "faults": {"/nowhere": "500"},
}

fails = 0


def expect(name, cond, got=None):
    global fails
    if not cond:
        fails += 1
        print(f"FAIL {name}: {got}")


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def req(self, method, path, body=None, headers=None, ctype="application/json"):
        h = dict(headers or {})
        if body is not None and ctype:
            h["Content-Type"] = ctype
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        try:
            js = json.loads(data) if data else None
        except ValueError:
            js = None
        return r.status, js, r

    def fresh(self):
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)


def login_check(c):
    s, j, _ = c.req("POST", "/v1/login_check", {"username": "alice", "password": "alice-pw"})
    expect("lc ok", s == 200 and len(j["token"]) == 32 and len(j["refresh_token"]) == 40
           and j["expires_in"] == 2 and j["display_name"] == "Alice" and "date" in j, j)
    tok, rt = j["token"], j["refresh_token"]
    for body, ctype, st, code in [
            ({"username": "alice", "password": "alice-pw"}, "text/plain", 400, 111),
            ("{nope", "application/json", 400, 110),
            ({"username": "alice"}, "application/json", 400, 1005),
            ({"username": "alice", "password": "x"}, "application/json", 401, 1006),
            ({"username": "dave", "password": "dave-pw"}, "application/json", 403, 1010),
            ({"username": "rita", "password": "rita-pw"}, "application/json", 429, 429)]:
        s, j, r = c.req("POST", "/v1/login_check", body, ctype=ctype)
        expect(f"lc error {code}", s == st and j["errors"][0]["error"] == code, (s, j))
    expect("lc Retry-After", r.getheader("Retry-After") == "5")
    s, j, _ = c.req("GET", "/v1/whoami", headers={"AuthorizationJWT": "Bearer " + tok})
    expect("whoami", s == 200 and j["username"] == "alice", j)
    s, j, _ = c.req("POST", "/v1/token/refresh", {"refresh_token": rt})
    expect("refresh", s == 200 and j["token"] != tok, j)
    s, j, _ = c.req("POST", "/v1/token/refresh", {"refresh_token": rt})
    expect("refresh reuse -> 1007", s == 401 and j["errors"][0]["error"] == 1007, j)
    return tok


def wialon(c):
    def ajax(svc, params=None, sid=None, query=False):
        f = {"svc": svc}
        if params is not None:
            f["params"] = params if isinstance(params, str) else json.dumps(params)
        if sid:
            f["sid"] = sid
        enc = urllib.parse.urlencode(f)
        if query:
            return c.req("GET", "/wialon/ajax.html?" + enc)[1]
        return c.req("POST", "/wialon/ajax.html", enc,
                     ctype="application/x-www-form-urlencoded")[1]
    j = ajax("token/login", {"token": BOB, "fl": 3})
    expect("wialon login", j.get("au") == "bob" and len(j.get("eid", "")) == 32 and
           j["user"]["prp"]["display_name"] == "Bob B" and j["th"] == BOB, j)
    eid = j["eid"]
    j = ajax("token/login", {"token": BOB, "operateAs": "carol"}, query=True)
    expect("wialon operateAs", j.get("au") == "carol" and j["user"]["nm"] == "carol", j)
    for params, err in [({"token": BOB, "operateAs": "eve"}, 8), ({"token": "abc"}, 4),
                        ({"token": "f" * 72}, 8), ({"token": BORIS}, 7),
                        ({"token": LIMITED}, 1003), ("{bad", 4)]:
        j = ajax("token/login", params)
        expect(f"wialon error {err}", j.get("error") == err, j)
    expect("wialon 1003 reason", j is not None)
    expect("wialon no svc", c.req("POST", "/wialon/ajax.html", "params={}",
                                  ctype="application/x-www-form-urlencoded")[1] == {"error": 1})
    expect("wialon bad svc", ajax("core/nope", {}) == {"error": 2})
    s, j, _ = c.req("GET", "/avl_evts?sid=" + eid)
    expect("avl_evts live", s == 200 and j.get("events") == [], j)
    expect("logout", ajax("core/logout", {}, eid) == {"error": 0})
    expect("logout again", ajax("core/logout", {}, eid) == {"error": 1})
    expect("avl_evts dead", c.req("GET", "/avl_evts?sid=" + eid)[1] == {"error": 1})
    return ajax("token/login", {"token": BOB})["eid"]


def jsonrpc(c):
    def call(method, params, id_=1, extra=None):
        m = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}
        m.update(extra or {})
        s, j, _ = c.req("POST", "/v4.0", m, ctype="application/json; charset=UTF-8")
        expect("jsonrpc status 200", s == 200, s)
        return j
    j = call("login.user", {"login": "erin", "password": "erin-pw"}, "pam-1")
    expect("jr login", j["id"] == "pam-1" and len(j["result"]["data"]["access_token"]) == 40
           and j["result"]["data"]["expire_at"] > time.time(), j)
    at = j["result"]["data"]["access_token"]
    for params, mn in [({"login": "erin", "password": "x"}, "auth_error"),
                       ({"login": "ivan", "password": "ivan-pw"}, "account_inactive"),
                       ({"login": "lena", "password": "lena-pw"}, "limit_exceeded"),
                       ({"login": "ipek", "password": "ipek-pw"}, "ip_not_whitelisted"),
                       ({"login": "erin", "password": "erin-pw", "x": 1},
                        "unexpected_parameters"),
                       ({"login": "erin"}, "required_parameter_missed")]:
        j = call("login.user", params, 5)
        expect(f"jr {mn}", j["error"]["data"]["mnemonic"] == mn and j["id"] == 5, j)
    j = call("nope", {})
    expect("jr method_not_found", j["error"]["code"] == -32601, j)
    s, j, _ = c.req("POST", "/v4.0", [{"jsonrpc": "2.0"}])
    expect("jr batch", j["error"]["data"]["mnemonic"] == "batch_opreations_not_supported", j)
    s, j, _ = c.req("POST", "/v4.0", {"jsonrpc": "2.0", "method": "login.user", "params": {}})
    expect("jr notification", j["error"]["data"]["mnemonic"] == "notifications_not_supported", j)
    s, j, _ = c.req("POST", "/v4.0", "{")
    expect("jr parse", j["error"]["code"] == -32700, j)
    j = call("logout.user", {"access_token": at})
    expect("jr logout", j["result"]["data"]["success"] is True, j)
    j = call("logout.user", {"access_token": at})
    expect("jr logout again", j["error"]["data"]["mnemonic"] == "access_token_invalid", j)


def rest(c):
    s, j, _ = c.req("POST", "/api/login", {"username": "1001", "password": "frank-pw",
                                           "domain": "t.example.com"})
    expect("rest login", s == 200 and j["token_type"] == "Bearer" and j["expires_in"] == 2, j)
    at, rt = j["access_token"], j["refresh_token"]
    s, j, _ = c.req("GET", "/api/login", headers={"Authorization": "Bearer " + at})
    expect("rest GET bearer", s == 200 and j["role"] == "Admin" and j["access_token"] == at, j)
    for body, st, code in [({"username": ".x", "password": "p"}, 400, "VALIDATE_FAILED"),
                           ({"username": "1001", "password": "bad",
                             "domain": "t.example.com"}, 401, "UNAUTHORIZED"),
                           ({"username": "1003", "password": "hugo-pw"}, 403, "FORBIDDEN"),
                           ({"username": "1004", "password": "x"}, 429, "TOO_MANY_REQUESTS")]:
        s, j, _ = c.req("POST", "/api/login", body)
        expect(f"rest {code}", s == st and j["errors"][0]["code"] == code, (s, j))
    s, j, r = c.req("POST", "/api/login", {"username": "1002", "password": "gina-pw",
                                           "domain": "t.example.com"})
    sets = [v.split(";")[0] for v in r.msg.get_all("Set-Cookie") or []]
    cookie = next((v for v in sets if v.startswith("session=")), "")
    expect("rest cookie flow", s == 200 and j is None and cookie and
           sets[0] == "lang=en", sets)
    s, j, _ = c.req("GET", "/api/login", headers={"Cookie": cookie + "; pbx_ui=dark"})
    expect("rest GET with an off-path cookie refused", s == 400, (s, j))
    s, j, _ = c.req("GET", "/api/login", headers={"Cookie": cookie})
    expect("rest GET cookie", s == 200 and j["role"] == "StandardUser", j)
    expect("rest GET none", c.req("GET", "/api/login")[0] == 401)
    s, j, _ = c.req("POST", "/api/auth/refresh_token", {"refresh_token": rt})
    expect("rest refresh", s == 200 and j["access_token"] != at, j)
    s, j, _ = c.req("POST", "/api/auth/refresh_token", {"refresh_token": rt})
    expect("rest refresh reuse", s == 400 and j["errors"][0]["code"] == "UNKNOWN", j)
    s, j, _ = c.req("POST", "/api/logout", headers={"Authorization": "Bearer " + at})
    expect("rest logout", s == 204, s)
    expect("rest after logout", c.req("GET", "/api/login",
                                      headers={"Authorization": "Bearer " + at})[0] == 401)


def faults(c, port):
    def setf(path, mode):
        return c.req("POST", "/_fault?" + urllib.parse.urlencode({"path": path, "mode": mode}))
    setf("/v1/login_check", "500")
    expect("fault 500", c.req("POST", "/v1/login_check", {})[0] == 500)
    setf("/v1/login_check", "garbage")
    s, j, r = c.req("POST", "/v1/login_check", {})
    expect("fault garbage", s == 200 and j is None, s)
    setf("/v1/login_check", "oversized")
    s, j, r = c.req("POST", "/v1/login_check", {})
    expect("fault oversized", s == 200 and j is not None and len(j["token"]) > 1000000, s)
    setf("/v1/login_check", "close")
    try:
        c.req("POST", "/v1/login_check", {})
        expect("fault close", False)
    except (http.client.HTTPException, ConnectionError):
        pass
    c.fresh()
    setf("/v1/login_check", "stall")
    t = time.time()
    try:
        c.req("POST", "/v1/login_check", {})
        expect("fault stall", False)
    except (http.client.HTTPException, ConnectionError):
        expect("fault stall lasts --stall-seconds", 0.8 < time.time() - t < 3, time.time() - t)
    c.fresh()
    setf("/v1/login_check", "none")
    s, j, _ = c.req("GET", "/_fault")
    expect("fault list", j == {"faults": {"/nowhere": "500"}}, j)
    expect("fault bad mode", setf("/x", "bogus")[0] == 400)


def websocket(port):
    rc = ws_probe.check(port)
    expect("ws_probe --check", rc == 0, rc)


def expiry(c, tok, eid):
    time.sleep(2.3)
    s, j, _ = c.req("GET", "/v1/whoami", headers={"AuthorizationJWT": "Bearer " + tok})
    expect("token expired -> 1009", s == 401 and j["errors"][0]["error"] == 1009, j)
    expect("wialon session idled out", c.req("GET", "/avl_evts?sid=" + eid)[1] == {"error": 1})


def stats(c):
    s, j, _ = c.req("GET", "/_stats")
    expect("stats", s == 200 and j["total"] > 0 and j["login_check"] > 0 and
           j["ws_auth_ok"] > 0 and j["rest_logout_ok"] > 0, j)
    c.req("POST", "/_reset")
    s, j, _ = c.req("GET", "/_stats")
    expect("reset", all(v == 0 for v in j.values()), j)


def main(argv):
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 3
    with tempfile.TemporaryDirectory() as d:
        acc = os.path.join(d, "accounts.json")
        with open(acc, "w") as f:
            json.dump(ACCOUNTS, f)
        pf = os.path.join(d, "port")
        p = subprocess.Popen([argv[1], "--accounts", acc, "--port-file", pf,
                              "--stall-seconds", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline().strip()
        port = int(line.split("=")[1])
        expect("port file", open(pf).read().strip() == str(port))
        c = Client(port)
        for _ in range(rounds):
            tok = login_check(c)
            eid = wialon(c)
            jsonrpc(c)
            rest(c)
        faults(c, port)
        websocket(port)
        expiry(c, tok, eid)
        stats(c)
        c.conn.close()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        expect("exit 0 on SIGTERM", p.returncode == 0, p.returncode)
        expect("empty stderr", err == "", err[:3000])
    print("smoke: %s" % ("OK" if fails == 0 else f"{fails} FAILED"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
