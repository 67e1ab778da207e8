#!/usr/bin/env bash
# Live throughput on a veth pair: the packet rates `egresswatch live` keeps
# up with, and where libpcap starts to drop.
#
# Needs root, iproute2 and tcpreplay (.ci/run installs both) and a release
# build (cargo build --release). Replays PCAP (default: the real smart-lock
# capture, 11,150 frames) LOOPS times onto one end of a veth pair in a
# private network namespace at each rate in RATES (packets/s; "top" is
# tcpreplay's --topspeed), with the sensor on the other end, and prints per
# rate: what tcpreplay achieved, what the sensor analysed, and libpcap's
# drop counters.
#
#   sudo benches/live-veth.sh
#   sudo WORKERS=0 RATES="100000 top" benches/live-veth.sh
#   sudo PCAP=site-512 LOOPS=2 benches/live-veth.sh   # the bench's 512-host site
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/release/egresswatch}
PCAP=${PCAP:-../shared/captures/tjoconnor__schlage-lock-01.pcap}
LOOPS=${LOOPS:-40}
WORKERS=${WORKERS:-2}
RATES=${RATES:-"50000 100000 200000 400000 top"}
BUFFER=${BUFFER:-$((64 << 20))}

[[ -x $BIN ]] || { echo "no $BIN: run cargo build --release" >&2; exit 2; }
if [[ $PCAP == site-512 ]]; then
  PCAP=target/site-512-hosts.pcap
  [[ -f $PCAP ]] || LIVE_SHARDS_WRITE=$PWD/$PCAP cargo bench --bench live_shards >/dev/null
fi
[[ -f $PCAP ]] || { echo "no $PCAP" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "needs root (network namespaces)" >&2; exit 2; }

NS=ewbench$$
OUT=$(mktemp -d)
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$OUT"' EXIT
ip netns exec "$NS" sh -c 'for k in default all; do echo 1 > /proc/sys/net/ipv6/conf/$k/disable_ipv6; done 2>/dev/null; true'
ip -n "$NS" link add name rep type veth peer name cap
ip -n "$NS" link set rep up
ip -n "$NS" link set cap up

printf '%-8s %12s %12s %12s %10s %10s\n' rate sent_pps sent analysed dropped if_dropped
for rate in $RATES; do
  ev="$OUT/events-$rate.ndjson"
  ip netns exec "$NS" "$BIN" live -i cap --workers "$WORKERS" --buffer-size "$BUFFER" \
    --format ndjson -o "$ev" --stats-interval 3600 2>"$OUT/err" &
  pid=$!
  sleep 1
  if [[ $rate == top ]]; then speed=(--topspeed); else speed=(--pps "$rate"); fi
  log=$(ip netns exec "$NS" tcpreplay -i rep --loop "$LOOPS" "${speed[@]}" "$PCAP" 2>&1)
  sleep 2
  kill -INT "$pid"
  wait "$pid" || { cat "$OUT/err" >&2; exit 1; }
  sent_pps=$(sed -n 's/.*Actual: .*(\([0-9.]*\) pps).*/\1/p; s/.*Rated: .*, \([0-9.]*\) pps.*/\1/p' <<<"$log" | tail -1)
  sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' <<<"$log")
  tail -n 1 "$ev" | python3 -c '
import json, sys
r = json.load(sys.stdin)["capture"]
l = r["live"]
print(r["packets"], l["dropped"], l["if_dropped"])' | {
    read -r analysed dropped ifdropped
    printf '%-8s %12s %12s %12s %10s %10s\n' "$rate" "$sent_pps" "$sent" "$analysed" "$dropped" "$ifdropped"
  }
done
