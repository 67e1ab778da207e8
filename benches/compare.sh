#!/usr/bin/env bash
# One-run comparison of `egresswatch analyze` with tshark and ndpiReader on
# the same capture (issue 7): wall time, packets/s, Gbit/s and peak RSS of
# each, egresswatch's speed as a ratio to the others, the instruction count
# per packet under callgrind (the noise-free figure), and whether the
# performance targets are met.
#
#   benches/compare.sh                  # bench-data/site-mix.pcap, 3 runs each
#   benches/compare.sh -n 5 FILE        # another capture, best of 5
#   benches/compare.sh --no-build --no-callgrind
#
# The capture is read (untimed) before every run so that each tool finds it
# in the page cache; the tools take turns for N rounds, and each one's best
# wall time is kept (peak RSS is the largest over the runs, from
# /usr/bin/time). Each ratio is also given as the median over the rounds
# of the ratio within a round: on a shared machine whose speed drifts, a
# best time can come from a fast spell the other tool never met, while the
# runs of one round met the same machine. Gbit/s counts the
# frames' original lengths (capinfos -d), without preamble, gap or CRC.
# A busy machine makes the times worthless: the load average at the start
# is printed, with what was running then. The script prints the targets it
# missed but exits 0; it exits 2 on bad usage or a missing tool or file and
# 1 when a tool fails. It is not a cargo bench target: `cargo bench` never
# runs it and does not need it.
set -euo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
usage: benches/compare.sh [-n N] [--no-build] [--no-callgrind] [FILE]

  FILE            pcap or pcapng capture (default: bench-data/site-mix.pcap)
  -n, --runs N    runs of each tool; the best wall time is kept (default 3)
  --no-build      use target/release/egresswatch as it is (no cargo build --release)
  --no-callgrind  skip the instruction count (valgrind --tool=callgrind)
  -h, --help      this help
EOF
}

die() {
  echo "compare.sh: $*" >&2
  exit 2
}

RUNS=3
BUILD=1
CALLGRIND=1
FILE=
while (($#)); do
  case $1 in
    -n | --runs)
      (($# >= 2)) || die "$1 needs a number"
      RUNS=$2
      shift 2
      ;;
    --no-build) BUILD=0 && shift ;;
    --no-callgrind) CALLGRIND=0 && shift ;;
    -h | --help) usage && exit 0 ;;
    --) shift && break ;;
    -*) usage >&2 && die "unknown option $1" ;;
    *)
      [[ -z $FILE ]] || die "one FILE only (got $FILE and $1)"
      FILE=$1
      shift
      ;;
  esac
done
if (($#)); then
  [[ -z $FILE && $# == 1 ]] || die "one FILE only"
  FILE=$1
fi
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "-n wants a whole number >= 1, not '$RUNS'"
((BASH_VERSINFO[0] >= 5)) || die "needs bash 5 or later (EPOCHREALTIME)"

# A FILE given on the command line is taken from the caller's directory.
if [[ -n $FILE ]]; then
  [[ -f $FILE ]] || die "no capture file $FILE"
  FILE=$(realpath -- "$FILE")
fi
ROOT=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [[ -z $FILE ]]; then
  FILE=bench-data/site-mix.pcap
  if [[ ! -f $FILE ]]; then
    cat >&2 <<'EOF'
compare.sh: no bench-data/site-mix.pcap (the ~1M-packet site mix, git-ignored).
Make it from the package root with:

    pip install scapy
    mkdir -p bench-data
    python3 ../shared/bench/gen_mix.py --out bench-data
    mv bench-data/synthetic-mix.pcap bench-data/site-mix.pcap

or give another capture: benches/compare.sh FILE
EOF
    exit 2
  fi
  FILE=$(realpath -- "$FILE")
fi

# --- tools ------------------------------------------------------------------
declare -A PKG=(
  [tshark]=tshark [ndpiReader]=libndpi-bin [capinfos]=wireshark-common
  [/usr/bin/time]=time [lscpu]=util-linux [cargo]=rustup
)
NEED=(tshark ndpiReader capinfos /usr/bin/time lscpu)
((BUILD)) && NEED+=(cargo)
if ((CALLGRIND)); then
  PKG+=([editcap]=wireshark-common [valgrind]=valgrind [callgrind_annotate]=valgrind)
  NEED+=(editcap valgrind callgrind_annotate)
fi
missing=()
pkgs=()
for tool in "${NEED[@]}"; do
  if ! command -v "$tool" >/dev/null; then
    missing+=("$tool")
    [[ " ${pkgs[*]} " == *" ${PKG[$tool]} "* ]] || pkgs+=("${PKG[$tool]}")
  fi
done
if ((${#missing[@]})); then
  echo "compare.sh: missing ${missing[*]}; install with:" >&2
  echo "    apt-get install -y ${pkgs[*]}" >&2
  [[ " ${pkgs[*]} " != *" rustup "* ]] || echo "(cargo: install a Rust toolchain)" >&2
  exit 2
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Floating-point helpers (bash has integers only).
calc() { awk "BEGIN { printf \"%.${1}f\", $2 }"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
# round_ratio SLOW FAST: the median over the rounds of SLOW's wall time over
# FAST's in the same round.
round_ratio() {
  local r
  for ((r = 1; r <= RUNS; r++)); do
    calc 6 "${ROUND[$1/$r]} / ${ROUND[$2/$r]}"
    echo
  done | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m }'
}

# --- the machine --------------------------------------------------------------
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
read -r load1 load5 load15 _ </proc/loadavg
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, Linux $(uname -r)," \
  "$(rustc --version 2>/dev/null || echo 'rustc unknown'), $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "load average at start: $load1 $load5 $load15"
if ge "$load1" 0.5; then
  echo "WARNING: load $load1 > 0.5: other work shares the CPUs, so the times are worth less" \
    "(niced processes count in the load too)."
  if command -v top >/dev/null; then
    echo "Using more than 5% of a CPU over the last second:"
    top -b -n 2 -d 1 -w 200 | awk '/^ *PID/ { frame++; next }
      frame == 2 && $9 + 0 > 5 { printf "    %-16s pid %-7s nice %3s  %5s%% CPU\n", $12, $1, $4, $9 }'
  fi
fi

# --- the binary ---------------------------------------------------------------
BIN=$ROOT/target/release/egresswatch
if ((BUILD)); then
  echo "building: cargo build --release"
  cargo build --release --quiet
fi
[[ -x $BIN ]] || die "no $BIN: run cargo build --release (or drop --no-build)"

# --- the capture ----------------------------------------------------------------
size=$(stat -c %s -- "$FILE")
echo
echo "capture: $FILE ($(calc 1 "$size / 1048576") MiB)"
t0=$EPOCHREALTIME
cat -- "$FILE" >/dev/null
t1=$EPOCHREALTIME
echo "read it once to put it in the page cache: $(calc 2 "$t1 - $t0") s"

# resident: how much of the capture is in the page cache, in percent ("?"
# without fincore).
resident() {
  local cached
  cached=$(fincore --bytes --noheadings --output RES -- "$FILE" 2>/dev/null | tr -d ' ' || true)
  if [[ $cached =~ ^[0-9]+$ ]]; then
    calc 1 "($cached > $size ? 100 : 100 * $cached / $size)"
  else
    echo '?'
  fi
}

echo "in the page cache now: $(resident)% of the file"
IFS=$'\t' read -r _ PACKETS WIRE_BYTES < <(capinfos -r -M -T -c -d -- "$FILE" | tail -n 1)
[[ $PACKETS =~ ^[0-9]+$ && $WIRE_BYTES =~ ^[0-9]+$ && $PACKETS -gt 0 ]] ||
  die "capinfos could not count the packets of $FILE"
echo "packets: $PACKETS; bytes on the wire: $WIRE_BYTES (capinfos -c -d)"

json_packets() {
  if command -v jq >/dev/null; then
    jq -r .capture.packets "$1"
  else
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["capture"]["packets"])' "$1"
  fi
}

# Untimed checks that each tool reads the whole file (they also warm the
# binaries and libraries into the cache).
"$BIN" analyze "$FILE" --format json -o "$TMP/report.json" 2>"$TMP/err" || {
  cat "$TMP/err" >&2
  echo "compare.sh: egresswatch analyze failed" >&2
  exit 1
}
ew_packets=$(json_packets "$TMP/report.json")
echo "check: egresswatch reports capture.packets = $ew_packets" \
  "$([[ $ew_packets == "$PACKETS" ]] && echo '(all of them)' || echo "(NOT the $PACKETS capinfos counts)")"
# ndpiReader -q prints nothing at all, so the check runs it once without -q
# and reads its "IP packets: X of N packets total" line.
ndpiReader -i "$FILE" >"$TMP/ndpi.txt" 2>&1 || {
  tail -n 20 "$TMP/ndpi.txt" >&2
  echo "compare.sh: ndpiReader failed" >&2
  exit 1
}
nd_packets=$(sed -n 's/.*of \([0-9]*\) packets total.*/\1/p' "$TMP/ndpi.txt" | head -n 1)
echo "check: ndpiReader (without -q) read ${nd_packets:-?} packets" \
  "$([[ $nd_packets == "$PACKETS" ]] && echo '(all of them)' || echo "(NOT the $PACKETS capinfos counts)")"

# --- timed runs -------------------------------------------------------------------
declare -A WALL RSS CPU ROUND

# Some kernels page out file cache that looks idle (DAMON reclaim, as on
# the machine the README's figures come from: a capture left alone for
# 8 s was down to 83% resident), so a run would read part of the file
# from disk. The capture is read again, untimed, before every timed run,
# and the least resident it was at the start of a run is printed.
LEAST_RESIDENT=
warm() {
  local r
  cat -- "$FILE" >/dev/null
  r=$(resident)
  if [[ $r != '?' ]] && { [[ -z $LEAST_RESIDENT ]] || ge "$LEAST_RESIDENT" "$r"; }; then
    LEAST_RESIDENT=$r
  fi
}

# once LABEL RUN CMD...: one timed run of CMD (after warm) with standard
# output to /dev/null; keeps the best wall time, the largest max RSS and the
# CPU time of the best run.
once() {
  local label=$1 i=$2 t0 t1 wall rss user sys
  shift 2
  warm
  t0=$EPOCHREALTIME
  if ! /usr/bin/time -f '%M %U %S' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err"; then
    tail -n 20 "$TMP/err" >&2
    echo "compare.sh: failed: $*" >&2
    exit 1
  fi
  t1=$EPOCHREALTIME
  wall=$(calc 4 "$t1 - $t0")
  read -r rss user sys < <(tail -n 1 "$TMP/time")
  printf '  %-34s run %d: %8.3f s, %7.1f MiB\n' "$label" "$i" "$wall" "$(calc 1 "$rss / 1024")"
  ROUND[$label/$i]=$wall
  if [[ -z ${WALL[$label]:-} ]] || ge "${WALL[$label]}" "$wall"; then
    WALL[$label]=$wall
    CPU[$label]=$(calc 2 "$user + $sys")
  fi
  if [[ -z ${RSS[$label]:-} ]] || ((rss > ${RSS[$label]})); then RSS[$label]=$rss; fi
}

EW="egresswatch analyze (text)"
EWJ="egresswatch analyze --format json"
TS="tshark -T fields dns,sni"
ND="ndpiReader -q"
W1="egresswatch --workers 1 (json)"
W2="egresswatch --workers 2 (json)"
ROWS=("$EW" "$EWJ" "$TS" "$ND")
WORKERS=0
if "$BIN" analyze --help | grep -q -- '--workers'; then
  WORKERS=1
  ROWS+=("$W1" "$W2")
fi

# run LABEL RUN: one timed run of the tool under LABEL.
run() {
  case $1 in
    "$EW") once "$1" "$2" "$BIN" analyze "$FILE" -o /dev/null ;;
    "$EWJ") once "$1" "$2" "$BIN" analyze "$FILE" --format json -o /dev/null ;;
    "$TS") once "$1" "$2" tshark -r "$FILE" -T fields -e dns.qry.name -e tls.handshake.extensions_server_name ;;
    "$ND") once "$1" "$2" ndpiReader -i "$FILE" -q ;;
    "$W1") once "$1" "$2" "$BIN" analyze "$FILE" --workers 1 --format json -o /dev/null ;;
    "$W2") once "$1" "$2" "$BIN" analyze "$FILE" --workers 2 --format json -o /dev/null ;;
  esac
}

# The tools take turns, one run each per round, so that a spell of load
# on a shared machine falls on all of them rather than on one tool's
# block of runs: the ratios compare runs made minutes apart at most.
echo
echo "timing, best of $RUNS, the tools taking turns:"
for ((round = 1; round <= RUNS; round++)); do
  for label in "${ROWS[@]}"; do
    run "$label" "$round"
  done
done

# --- results ----------------------------------------------------------------------
echo
printf '%-34s %8s %8s %8s %8s %7s %9s %9s\n' tool "wall s" "Mpkt/s" "Gbit/s" "RSS MiB" "cpu s" "ew x" "ew x cpu"
for label in "${ROWS[@]}"; do
  w=${WALL[$label]}
  if [[ $label == "$TS" || $label == "$ND" ]]; then
    ratio=$(calc 1 "$w / ${WALL[$EW]}")x
    ratio_cpu=$(calc 1 "${CPU[$label]} / (${CPU[$EW]} > 0 ? ${CPU[$EW]} : 0.01)")x
  else
    ratio=-
    ratio_cpu=-
  fi
  printf '%-34s %8.3f %8.3f %8.3f %8.1f %7.2f %9s %9s\n' "$label" "$w" \
    "$(calc 6 "$PACKETS / $w / 1e6")" "$(calc 6 "$WIRE_BYTES * 8 / $w / 1e9")" \
    "$(calc 1 "${RSS[$label]} / 1024")" "${CPU[$label]}" "$ratio" "$ratio_cpu"
done
echo "(page cache: at the start of every timed run at least ${LEAST_RESIDENT:-?}% of the capture was resident)"
echo "(cpu s: user + sys of the best run; ew x: how many times faster egresswatch's text run is,"
echo " by wall time and by CPU time; on a busy machine wall s > cpu s and the CPU ratio is the steadier)"

if ((WORKERS)); then
  # The reports are compared from two more runs, untimed, after all the
  # timed ones: the timed runs write to /dev/null like every other row,
  # and the 2 x 50 MB a round of files would take leave dirty pages whose
  # writeback can compete with the next timed runs for the two cores.
  "$BIN" analyze "$FILE" --workers 1 --format json -o "$TMP/w1.json"
  "$BIN" analyze "$FILE" --workers 2 --format json -o "$TMP/w2.json"
  speedup=$(calc 2 "${WALL[$W1]} / ${WALL[$W2]}")
  speedup_round=$(round_ratio "$W1" "$W2")
  echo
  echo "workers: 2 workers are ${speedup}x one (best of $RUNS each);" \
    "${speedup_round}x in the median round (the two run back to back in every round)"
  if cmp -s "$TMP/w1.json" "$TMP/w2.json"; then
    echo "workers: the JSON reports of --workers 1 and --workers 2 are byte-identical"
  else
    echo "workers: the JSON reports of --workers 1 and --workers 2 DIFFER:"
    cmp "$TMP/w1.json" "$TMP/w2.json" || true
  fi
else
  echo
  echo "workers: comparison skipped: this binary's analyze has no --workers"
fi

# --- instructions per packet --------------------------------------------------------
IPP=
if ((CALLGRIND)); then
  CACHE=$ROOT/target/bench-compare
  mkdir -p "$CACHE"
  base=$(basename -- "$FILE")
  first=$CACHE/${base%.*}-first100k.${base##*.}
  if [[ ! -s $first || $FILE -nt $first ]]; then
    # Keep plain pcap plain (editcap writes pcapng by default); fall back
    # to editcap's default for what pcap cannot hold.
    editcap -F pcap -r "$FILE" "$TMP/first" 1-100000 2>/dev/null ||
      editcap -r "$FILE" "$TMP/first" 1-100000
    mv -- "$TMP/first" "$first"
  fi
  IFS=$'\t' read -r _ first_packets < <(capinfos -r -M -T -c -- "$first" | tail -n 1)
  editcap -r "$first" "$TMP/one" 1 2>/dev/null

  # callgrind_ir CAPTURE OUT: the instructions egresswatch analyze executes.
  callgrind_ir() {
    if ! valgrind --tool=callgrind --callgrind-out-file="$2" \
      "$BIN" analyze "$1" -o /dev/null 2>"$TMP/vg.err"; then
      tail -n 20 "$TMP/vg.err" >&2
      echo "compare.sh: valgrind failed on $1" >&2
      exit 1
    fi
    awk '$1 == "summary:" || $1 == "totals:" { print $2; exit }' "$2"
  }
  echo
  echo "instructions: valgrind --tool=callgrind on the first $first_packets packets ($first)"
  out=$TMP/callgrind.out
  t0=$EPOCHREALTIME
  total_ir=$(callgrind_ir "$first" "$out")
  t1=$EPOCHREALTIME
  start_ir=$(callgrind_ir "$TMP/one" "$TMP/callgrind-one.out")
  [[ $total_ir =~ ^[0-9]+$ && $start_ir =~ ^[0-9]+$ ]] || die "no instruction total in the callgrind output"
  IPP=$(calc 0 "$total_ir / $first_packets")
  echo "instructions: $total_ir Ir in total ($(calc 0 "$t1 - $t0") s under valgrind):" \
    "$IPP per packet, start-up included"
  if ((first_packets > 1)); then
    echo "instructions: start-up (a 1-packet capture) $start_ir Ir; without it" \
      "$(calc 0 "($total_ir - $start_ir) / ($first_packets - 1)") per packet"
  fi
  for mode in yes no; do
    echo
    if [[ $mode == yes ]]; then
      echo "top 10 functions by inclusive Ir (the runtime's start-up wrappers left out):"
    else
      echo "top 10 functions by self Ir:"
    fi
    # Lines are "IR (PCT%)  FILE:FUNCTION [OBJECT]"; keep the file's base name only.
    callgrind_annotate --inclusive="$mode" --auto=no "$out" 2>/dev/null |
      awk '/file:function/ { on = 1; getline; next } on && NF == 0 { exit } on' |
      sed -E 's/ \[[^]]*\]$//; s#^( *[0-9,]+ +\( *[0-9.]+%\) +)([^:]*/)?([^/:]*):#\1\3:#' |
      grep -Ev '^ *[0-9,]+ +\( *[0-9.]+%\) +[^:]*:(0x[0-9a-f]+|main|\(below main\)|__libc_start_main.*|std::rt::lang_start.*|std::sys::backtrace::__rust_begin_short_backtrace.*)$' |
      awk 'NR <= 10 { print substr($0, 1, 160) }'
  done
fi

# --- targets --------------------------------------------------------------------------
target() { # MET? TEXT VALUE
  printf '  %-8s %-40s %s\n' "$([[ $1 == 1 ]] && echo met || echo MISSED)" "$2" "$3"
}
is() { if "$@"; then echo 1; else echo 0; fi; }
pps=$(calc 0 "$PACKETS / ${WALL[$EW]}")
vs_ts=$(calc 2 "${WALL[$TS]} / ${WALL[$EW]}")
vs_nd=$(calc 2 "${WALL[$ND]} / ${WALL[$EW]}")
rss_mib=$(calc 1 "${RSS[$EW]} / 1024")
echo
echo "targets (issue 7: the 1M-packet site mix on one core; measured here on $(basename -- "$FILE")):"
target "$(is ge "$pps" 2000000)" ">= 2 M packets/s" \
  "$(calc 2 "$pps / 1e6") M packets/s ($(calc 2 "$PACKETS / (${CPU[$EW]} > 0 ? ${CPU[$EW]} : 0.01) / 1e6") M per CPU second)"
target "$(is ge "$vs_ts" 45)" ">= 45x tshark" "${vs_ts}x"
vs_ts_round=$(round_ratio "$TS" "$EW")
target "$(is ge "$vs_ts_round" 45)" ">= 45x tshark, median round" "${vs_ts_round}x"
target "$(is ge "$vs_nd" 4)" ">= 4x ndpiReader" "${vs_nd}x"
vs_nd_round=$(round_ratio "$ND" "$EW")
target "$(is ge "$vs_nd_round" 4)" ">= 4x ndpiReader, median round" "${vs_nd_round}x"
if [[ -n $IPP ]]; then
  target "$(is ge 2500 "$IPP")" "<= 2,500 instructions per packet" "$IPP"
else
  echo "  skipped  <= 2,500 instructions per packet        (--no-callgrind)"
fi
target "$(is ge 64 "$rss_mib")" "peak RSS <= 64 MiB" "$rss_mib MiB"
if ((WORKERS)); then
  target "$(is ge "$speedup" 1.7)" "2 workers >= 1.7x one" "${speedup}x"
  target "$(is ge "$speedup_round" 1.7)" "2 workers >= 1.7x one, median round" "${speedup_round}x"
else
  echo "  skipped  2 workers >= 1.7x one                    (no --workers in this binary)"
fi
