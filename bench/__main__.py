"""``python -m bench``: run every benchmark and print the table."""

from __future__ import annotations

import sys

from bench import channels, foundation, iso8583, journal, kantorpos, reconcile
from bench.harness import print_results


def main() -> int:
    selected = set(sys.argv[1:]) or {
        "foundation",
        "channels",
        "journal",
        "reconcile",
        "kantorpos",
        "iso8583",
    }
    results = []
    if "foundation" in selected:
        results += foundation.run()
    if "channels" in selected:
        results += channels.run()
    if "journal" in selected:
        results += journal.run()
    if "reconcile" in selected:
        results += reconcile.run()
    if "kantorpos" in selected:
        results += kantorpos.run()
    if "iso8583" in selected:
        results += iso8583.run()
    print_results(results)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
