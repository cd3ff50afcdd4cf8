#!/usr/bin/env bash
# Health of Strike Atlas app processes: `healthcheck.sh [--wait SECONDS] PORT...` exits 0 when
# every process on 127.0.0.1:PORT answers /_stcore/health with "ok" (waiting up to SECONDS),
# else 1 naming the ones that do not. With no port: the proxy's /healthz on port 80.
# Used by the systemd unit (ExecStartPost), by compose, and by any monitor.
set -uo pipefail
wait=0
if [ "${1:-}" = "--wait" ]; then
  wait=$2
  shift 2
fi
urls=()
for port in "$@"; do urls+=("http://127.0.0.1:${port}/_stcore/health"); done
[ ${#urls[@]} -gt 0 ] || urls=("http://127.0.0.1/healthz")
deadline=$((SECONDS + wait))
for url in "${urls[@]}"; do
  while :; do
    body=$(python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=3).read().decode().strip())' "$url" 2>/dev/null)
    [ "$body" = "ok" ] && break
    if [ $SECONDS -ge $deadline ]; then
      echo "strike-atlas: not healthy: $url" >&2
      exit 1
    fi
    sleep 1
  done
done
echo "strike-atlas: healthy: ${urls[*]}"
