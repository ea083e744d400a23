"""Command line: ``python -m workshop_utils doctor`` (and ``check-backend``, which workshop.py runs first)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch the subcommands: ``doctor`` (the pre-workshop table) and ``check-backend`` (one line, instant)."""
    parser = argparse.ArgumentParser(prog="python -m workshop_utils", description=__doc__)
    parser.add_argument(
        "command", choices=["doctor", "check-backend"],
        help="doctor: check this machine for the workshop; check-backend: is the Keras backend's package installed?",
    )
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from workshop_utils.doctor import main as doctor_main

        return doctor_main()
    if args.command == "check-backend":
        from workshop_utils.doctor import backend_message

        message = backend_message()
        if message is not None:
            print(message, file=sys.stderr)
            return 1
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
