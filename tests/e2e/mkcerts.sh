#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mkcerts.sh DIR: the certificates the TLS end-to-end tests serve, made with openssl (and
# libfaketime for dates in the past). All keys are EC P-256, all files PEM.
#   ca.pem ca.key            a test CA, valid from 30 days ago for 10 years
#   good.pem good.key        signed by the CA for localhost and IP 127.0.0.1, valid now
#   self.pem self.key        self-signed for localhost and 127.0.0.1 (no CA trusts it)
#   other.pem other.key      signed by the CA, valid now, but for other.example only
#   expired.pem expired.key  signed by the CA for localhost and 127.0.0.1, valid from 20
#                            to 10 days ago
# Exits non-zero (with openssl's message on stderr) if anything fails.
set -eu
D=$1
mkdir -p "$D"
cd "$D"
FT="faketime -f"
LOCAL="subjectAltName=DNS:localhost,IP:127.0.0.1"

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# leaf NAME CN SAN DAYS [FAKETIME-OFFSET]: a certificate signed by the CA.
leaf() {
        local when=${5:-+0d}
        newkey "$1"
        openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
        printf '%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
                "$3" > "$1.ext"
        $FT "$when" openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
                -days "$4" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
        rm -f "$1.csr" "$1.ext"
}

newkey ca
$FT -30d openssl req -x509 -key ca.key -subj "/CN=apilogin test CA" -days 3650 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out ca.pem
leaf good localhost "$LOCAL" 30
leaf other other.example "subjectAltName=DNS:other.example" 30
leaf expired localhost "$LOCAL" 10 -20d
newkey self
openssl req -x509 -key self.key -subj /CN=localhost -days 30 -addext "$LOCAL" -out self.pem
chmod 600 ./*.key
