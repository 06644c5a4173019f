"""``python -m bench``: run every benchmark and print the table."""

from __future__ import annotations

import sys

from bench import foundation
from bench.harness import print_results


def main() -> int:
    results = foundation.run()
    print_results(results)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
