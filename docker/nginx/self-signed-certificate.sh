#!/bin/sh
# First boot: when the certificate directory holds no certificate, make a self-signed one for
# the server name (localhost by default) so HTTPS answers at once. A real certificate mounted
# there (fullchain.pem + privkey.pem) is left alone. Used by docker compose's `certificate`
# service and by `make smoke`.
set -eu

cert_dir="${1:-${NGINX_CERT_DIR:-/etc/nginx/certs}}"
name="${2:-${NGINX_SERVER_NAME:-localhost}}"

if [ -s "$cert_dir/fullchain.pem" ] && [ -s "$cert_dir/privkey.pem" ]; then
  echo "certificate: using the one in $cert_dir"
  exit 0
fi
mkdir -p "$cert_dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
  -keyout "$cert_dir/privkey.pem" -out "$cert_dir/fullchain.pem" 2>/dev/null
chmod 600 "$cert_dir/privkey.pem"
echo "certificate: made a self-signed one for $name in $cert_dir (replace it for a real domain)"
