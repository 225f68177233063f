#!/usr/bin/env bash
# Make the certificates the TLS and token tests use, once, in DIR:
#
#   ca.pem, ca.key            a test certificate authority
#   server.pem, server.key    TLS server certificate for 127.0.0.1 and
#                             localhost, signed by the test CA
#   client.pem                private key (PEM) followed by the certificate
#                             of a service principal, signed by the test CA
#   client-cert.pem           that certificate alone
#   client.key                that private key alone
#
#   certs.sh DIR
#
# Running it again keeps certificates that are still valid for a day and
# were signed by the CA in DIR; anything else is made anew.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Another run on the same DIR waits for this one.
exec 9>"$dir/.lock"
flock -w 60 9

tmp=$(mktemp -d "$dir/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# fresh CERT: CERT exists, is valid for another day and, unless it is the
# CA itself, was signed by the CA in DIR
fresh() {
  [ -s "$1" ] || return 1
  openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1 || return 1
  [ "$1" = "$dir/ca.pem" ] && return 0
  openssl verify -CAfile "$dir/ca.pem" "$1" >/dev/null 2>&1
}

newkey() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$1" 2>/dev/null
}

# sign NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA,
# left in $tmp/NAME.key and $tmp/NAME.pem
sign() {
  local name=$1 subject=$2 ext=$3
  newkey "$tmp/$name.key"
  openssl req -new -key "$tmp/$name.key" -subj "$subject" \
    -out "$tmp/$name.csr"
  printf '%s\n' "$ext" >"$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$dir/ca.pem" \
    -CAkey "$dir/ca.key" -CAcreateserial -CAserial "$tmp/ca.srl" \
    -days 825 -sha256 -extfile "$tmp/$name.ext" -out "$tmp/$name.pem" \
    2>/dev/null
}

renewed=0
if ! fresh "$dir/ca.pem" || [ ! -s "$dir/ca.key" ]; then
  newkey "$tmp/ca.key"
  openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 3650 \
    -subj "/CN=cairn test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$tmp/ca.pem"
  chmod 600 "$tmp/ca.key"
  mv "$tmp/ca.key" "$dir/ca.key"
  mv "$tmp/ca.pem" "$dir/ca.pem"
  renewed=1
fi

if [ "$renewed" = 1 ] || ! fresh "$dir/server.pem" ||
  [ ! -s "$dir/server.key" ]; then
  sign server "/CN=127.0.0.1" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer"
  chmod 600 "$tmp/server.key"
  mv "$tmp/server.key" "$dir/server.key"
  mv "$tmp/server.pem" "$dir/server.pem"
fi

if [ "$renewed" = 1 ] || ! fresh "$dir/client-cert.pem" ||
  [ ! -s "$dir/client.key" ] || [ ! -s "$dir/client.pem" ]; then
  sign client "/CN=cairn test service principal" \
    "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer"
  cat "$tmp/client.key" "$tmp/client.pem" >"$tmp/client-bundle.pem"
  chmod 600 "$tmp/client.key" "$tmp/client-bundle.pem"
  mv "$tmp/client.key" "$dir/client.key"
  mv "$tmp/client.pem" "$dir/client-cert.pem"
  mv "$tmp/client-bundle.pem" "$dir/client.pem"
fi
