#!/usr/bin/env python3
"""Generate src/device/oui.tsv, the vendor table embedded by oui.rs.

Usage: python3 gen_oui.py SOURCE_NOTE OUT.tsv CSV...

Each CSV is an IEEE registry export (header
`Registry,Assignment,Organization Name,Organization Address`): MA-L (oui.csv),
MA-M (mam.csv / oui28.csv), MA-S (oui36.csv) and IAB (iab.csv). CID entries
are skipped: company IDs live in locally administered space, which oui.rs
never looks up. Where to get the CSVs without the IEEE site:

- the `oui-data` crate on crates.io ships all of them under `data/`
  (e.g. `cargo fetch` in a throwaway crate depending on `oui-data`, then
  `~/.cargo/registry/src/*/oui-data-X.Y.Z/data/*.csv`);
- Debian's `ieee-data` package ships /usr/share/ieee-data/{oui,mam,oui36,iab}.csv
  (older).

Output: a first line `# source: SOURCE_NOTE` (no tab), then one line per
assignment, `KEY<TAB>NAME`, sorted by KEY bytewise, where KEY is the
assignment in upper-case hex: 6 digits (MA-L, 24 bits), 7 (MA-M, 28 bits) or
9 (MA-S and IAB, 36 bits). NAME is the organisation name, whitespace
collapsed and trailing legal forms removed ("Apple, Inc." -> "Apple",
"TP-LINK TECHNOLOGIES CO.,LTD." -> "TP-LINK TECHNOLOGIES"). Entries naming
no vendor ("Private", "IEEE Registration Authority" for blocks sub-assigned
in MA-M/MA-S/IAB) are dropped, so a lookup falls through to nothing rather
than to a placeholder. The first assignment of a KEY wins (MA-L first).
"""

import csv
import re
import sys

SKIP_NAMES = {"private", "ieee registration authority"}

# Legal forms stripped from the end of a name, repeatedly (case-insensitive).
SUFFIX = re.compile(
    r"""[\s,.]*\b(?:
        co\.?\s*,?\s*ltd | company\s+limited | co\.?\s*,?\s*limited
      | corporation | corp | incorporated | inc | limited | ltd | llc | l\.l\.c
      | gmbh(?:\s*&\s*co\.?\s*kg)? | ag | kg | s\.?a | s\.?p\.?a | s\.?r\.?l | s\.?a\.?s
      | b\.?v | n\.?v | a/s | as | ab | oy | oyj | plc | pty | pte | sdn\s+bhd | bhd
      | s\.?l | sp\.\s*z\s*o\.?\s*o | s\.?r\.?o | k\.?k | co
    )\.?[\s,.]*$""",
    re.IGNORECASE | re.VERBOSE,
)


def short_name(name: str) -> str:
    name = " ".join(name.replace("\u00a0", " ").split())
    short = name
    for _ in range(4):
        cut = SUFFIX.sub("", short).rstrip(" ,.-")
        if cut == short or not cut:
            break
        short = cut
    return short or name


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    note, out, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    table: dict[str, str] = {}
    for path in paths:
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                reg = row["Registry"].strip()
                key = row["Assignment"].strip().upper()
                name = short_name(row["Organization Name"])
                if reg == "CID" or name.lower() in SKIP_NAMES or not name:
                    continue
                if not re.fullmatch(r"[0-9A-F]{6}|[0-9A-F]{7}|[0-9A-F]{9}", key):
                    sys.exit(f"{path}: bad assignment {key!r}")
                table.setdefault(key, name)
    assert "\t" not in note and "\n" not in note
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# source: {note}\n")
        for key in sorted(table, key=lambda k: k.encode()):
            name = table[key]
            assert "\t" not in name and "\n" not in name and len(name) < 200
            f.write(f"{key}\t{name}\n")
    print(f"{out}: {len(table)} assignments", file=sys.stderr)


if __name__ == "__main__":
    main()
