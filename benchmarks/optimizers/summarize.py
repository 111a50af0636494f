"""Merge result files of one suite and print its tables; save its curve plot as PNG.

    .venv-bench/bin/python benchmarks/optimizers/summarize.py --title "MF-Hartmann" \
        --plot benchmarks/optimizers/results/mf_hartmann.png results/mf_hartmann_*.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis import load_rows, markdown_summary, median_table, plot_curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--title", default="regret (median, quartiles)")
    parser.add_argument("--ylabel", default="regret")
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    rows = load_rows(args.files)
    print(f"{len(rows)} runs, seeds {sorted({r['seed'] for r in rows})}")
    print(markdown_summary(rows))
    print()
    print(median_table(rows))
    if args.plot:
        plot_curves(rows, args.plot, args.title, args.ylabel)


if __name__ == "__main__":
    main()
