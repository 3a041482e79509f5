"""Bulk import of members from Excel (.xlsx) and CSV files (F-03), and the import template.

A file goes reading -> columns -> checks -> service: `reading` (with `xlsx`) turns its bytes
into rows of cell values, `columns` maps the header row (Chinese or English) to member fields,
`checks` cleans every row (via `cells`) with the same validation the API uses, and `service`
records an `ImportBatch` and, unless it is a dry run, inserts the good rows. `report` writes
the per-row errors, `template` the workbook to fill in, `uploads` the console's
preview-then-confirm files. docs/members-import.md tells the whole story.
"""

from patron.members.importing.errors import BadColumns, UnreadableFile
from patron.members.importing.report import write_report
from patron.members.importing.service import ImportResult, import_members
from patron.members.importing.template import build_template

__all__ = [
    "BadColumns",
    "ImportResult",
    "UnreadableFile",
    "build_template",
    "import_members",
    "write_report",
]
