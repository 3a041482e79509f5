"""`patron` — the command line (API.md §1). A friendly face on Django's management commands:
`patron migrate`, `patron demo`, `patron serve`, `patron merchant create`, `patron apikey create`,
`patron program apply|export`, `patron import members` … plus every Django command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
    args = sys.argv[1:] if argv is None else argv
    from django.core.management import execute_from_command_line

    execute_from_command_line(["patron", *args])


if __name__ == "__main__":
    main()
