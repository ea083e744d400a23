"""Command line: ``python -m workshop_utils doctor``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch the subcommands (only ``doctor`` for now)."""
    parser = argparse.ArgumentParser(prog="python -m workshop_utils", description=__doc__)
    parser.add_argument("command", choices=["doctor"], help="doctor: check this machine for the workshop")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from workshop_utils.doctor import main as doctor_main

        return doctor_main()
    return 2


if __name__ == "__main__":
    sys.exit(main())
