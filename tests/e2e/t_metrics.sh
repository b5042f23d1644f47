#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_metrics.sh: metrics_file. apilogind rewrites a Prometheus text file (0644, temp +
# rename, every 5 s and at exit); after logins that succeed, fail, find the API down and
# succeed offline, the counters by provider and outcome moved, the latency histogram counts
# every login, API errors are counted by code, the provider's reachability gauge follows the
# API, offline logins and offline sessions are counted, the background re-login of the
# offline session counts as a refresh, and the file parses as the text format (checked by a
# small strict parser below). apiloginctl status shows the same: provider offline, the
# offline session and the offline login.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
refapi_start "$DATA/e2e_accounts.json"
mkdir -m 755 "$T/prom"
M=$T/prom/apilogin.prom
TIMEOUT=3s standard_config "offline_login = yes
metrics_file = $M"
daemon_start || exit 1
CTL="$BUILD/cli/apiloginctl --socket ${SOCKET:-$RUNDIR/socket}"

# A strict reader of the text format (the subset a textfile collector accepts): HELP/TYPE
# before a family's samples, each family once, valid names, label values quoted with
# \\ \" \n escapes, float values, histogram buckets ascending in le and cumulative, +Inf
# equal to _count. Prints the samples as JSON {"name{a="x",b="y"}": value} (labels sorted).
cat > "$T/promcheck.py" <<'PY'
import json, math, re, sys
NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r'^(' + NAME + r')(?:\{((?:' + LABEL + r')(?:,' + LABEL + r')*)?\})? (\S+)$')
types, helps, samples, seen_families, current = {}, {}, {}, [], None
def family(n):
    for suf in ('_bucket', '_sum', '_count'):
        if n.endswith(suf) and types.get(n[:-len(suf)]) == 'histogram':
            return n[:-len(suf)]
    return n
for i, line in enumerate(open(sys.argv[1]).read().split('\n')[:-1], 1):
    def bad(why): sys.exit('line %d: %s: %r' % (i, why, line))
    if line.startswith('# '):
        m = re.match(r'^# (HELP|TYPE) (' + NAME + r') (.+)$', line)
        if not m: bad('bad comment')
        kind, n, rest = m.groups()
        if kind == 'TYPE':
            if n in types: bad('TYPE twice')
            if rest not in ('counter', 'gauge', 'histogram', 'summary', 'untyped'): bad('type')
            types[n] = rest
        else:
            if n in helps: bad('HELP twice')
            helps[n] = rest
        continue
    m = SAMPLE.match(line)
    if not m: bad('not a sample')
    n, value = m.group(1), m.group(m.lastindex)
    labels = dict(re.findall(LABEL, m.group(2) or ''))
    fam = family(n)
    if fam not in types: bad('sample before its TYPE')
    if fam != current:
        if fam in seen_families: bad('family split')
        seen_families.append(fam); current = fam
    try: v = float(value)
    except ValueError: bad('value')
    key = n + '{' + ','.join('%s="%s"' % kv for kv in sorted(labels.items())) + '}'
    if key in samples: bad('duplicate sample')
    samples[key] = v
for fam, t in types.items():
    if t != 'histogram': continue
    b = [(float(k.split('le="')[1].split('"')[0].replace('+Inf', 'inf')), v)
         for k, v in samples.items() if k.startswith(fam + '_bucket{')]
    if [x for x, _ in b] != sorted(x for x, _ in b): sys.exit(fam + ': le not ascending')
    if any(b[j][1] > b[j + 1][1] for j in range(len(b) - 1)): sys.exit(fam + ': not cumulative')
    if not b or b[-1][0] != math.inf or b[-1][1] != samples.get(fam + '_count{}'):
        sys.exit(fam + ': +Inf bucket != _count')
print(json.dumps(samples))
PY
# parse: check the file, keep its samples in $T/m.json.
parse() { python3 "$T/promcheck.py" "$M" > "$T/m.json"; }
# metric KEY: one sample's value as an integer (0 when absent), KEY as printed by the
# checker, e.g. 'apilogin_logins_total{outcome="ok",provider="fleet"}'.
metric() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1])).get(sys.argv[2], 0)))' "$T/m.json" "$1"; }
# metric_is KEY VALUE: the file (re-read) says so.
metric_is() { parse && [ "$(metric "$1")" = "$2" ]; }
logins() { python3 -c 'import json,sys; print(int(sum(v for k, v in json.load(open(sys.argv[1])).items() if k.startswith("apilogin_logins_total{"))))' "$T/m.json"; }
PW=alice-pw-7Qx
OK='apilogin_logins_total{outcome="ok",provider="fleet"}'
COUNT='apilogin_login_duration_seconds_count{}'

check "the file is written at start" wait_until 5 test -s "$M"
check "it is root's, mode 0644" [ "$(stat -c '%u %a' "$M")" = "0 644" ]
check "it parses as the Prometheus text format" parse
check "no login yet: the histogram count is 0" [ "$(metric "$COUNT")" = 0 ]
check "no reachability gauge before the first request" \
        [ "$(grep -c '^apilogin_provider_up{' "$M")" = 0 ]

# 1 ok, 1 wrong password, then the API answers 500: 1 unavailable (no verifier) and 1
# offline login (a session) from alice's verifier.
login apilogin-test alice "$PW"
expect_pam "alice logs in online" "auth: Success"
check "her verifier is written" wait_until 5 test -s $STATEDIR/private/offline/alice
login apilogin-test mallory wrong-pw
expect_pam "a wrong password is refused" "auth: Authentication failure"
refapi_fault /v1/login_check 500
login apilogin-test eve "$PW"
expect_pam "API down, never-seen eve: unavailable" "auth: Authentication service cannot retrieve authentication info"
session_bg a apilogin-test alice "$PW" 60
check "API down: alice's offline session opened" wait_until 10 grep -q "open: Success" "$T/sess_a.out"

check "within a write interval the histogram counts the 4 logins" \
        wait_until 8 metric_is "$COUNT" 4
check "the logins by outcome sum to the histogram count" [ "$(logins)" = 4 ]
check "logins ok (fleet): 2, one of them offline" [ "$(metric "$OK")" = 2 ]
check "logins auth_err (fleet): 1" [ "$(metric 'apilogin_logins_total{outcome="auth_err",provider="fleet"}')" = 1 ]
check "logins unavailable (fleet): 1" [ "$(metric 'apilogin_logins_total{outcome="unavailable",provider="fleet"}')" = 1 ]
check "offline logins (fleet): 1" [ "$(metric 'apilogin_offline_logins_total{provider="fleet"}')" = 1 ]
check "the +Inf bucket holds all 4" [ "$(metric 'apilogin_login_duration_seconds_bucket{le="+Inf"}')" = 4 ]
check "API errors by code: the 500s" [ "$(metric 'apilogin_api_errors_total{code="http_500",provider="fleet"}')" -ge 2 ]
check "API errors by code: the wrong password, under the API's own code" \
        python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(not [k for k in s if k.startswith("apilogin_api_errors_total{") and "http_500" not in k and "fleet" in k])' "$T/m.json"
check "fleet is down: apilogin_provider_up 0" [ "$(metric 'apilogin_provider_up{provider="fleet"}')" = 0 ]
sess_gauges() { parse && [ "$(metric 'apilogin_sessions{}') $(metric 'apilogin_offline_session_users{}')" = "1 1" ]; }
check "one live session, one user in an offline session" wait_until 8 sess_gauges
check "refreshes and their failures are there" \
        grep -q '^apilogin_refresh_failures_total ' "$M"

$CTL status --json > "$T/status.json"
check "apiloginctl status --json: fleet offline, 1 offline session user, 1 offline login" \
        [ "$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print([p["state"] for p in o["providers"]][0], o["offline"]["session_users"], o["offline"]["logins"])' "$T/status.json")" = "offline 1 1" ]
out=$($CTL status)
check "apiloginctl status: fleet offline" grep -qE "^  fleet +login_check +offline " <<<"$out"
check "apiloginctl status: the offline session and the offline login" \
        grep -q "^offline sessions: 1 user(s); offline logins since start: 1;" <<<"$out"
check "apiloginctl sessions: alice's session is offline" \
        grep -qE "^alice .* fleet +offline$" <<<"$($CTL sessions)"

# The API is back: the offline session gets its token in the background (a refresh).
refapi_fault /v1/login_check none
# (its background login backs off while the API is down: 1, 2, 4 ... 32 s)
check "API back: alice's offline session gets a token" wait_until 75 token_ready alice
check "the background re-login counts as a refresh" \
        wait_until 8 bash -c "python3 '$T/promcheck.py' '$M' | grep -q '\"apilogin_refreshes_total{}\": [1-9]'"
login apilogin-test alice "$PW"
check "API back (a refresh, a login): apilogin_provider_up 1" wait_until 8 metric_is 'apilogin_provider_up{provider="fleet"}' 1
check "the 5th login counted" wait_until 8 metric_is "$COUNT" 5
session_end a

# At exit the file is written once more: a login right before the stop is in it.
login apilogin-test alice wrong-again
daemon_stop
check "after the stop the file holds the last login (6)" metric_is "$COUNT" 6
check "no temp file is left beside it" [ "$(ls -A "$T/prom")" = apilogin.prom ]
check "the metrics file holds no password" bash -c "! grep -qF '$PW' '$M'"
check "no log holds a password" logs_clean "$PW"
e2e_done
