import json
import sys
from pathlib import Path

from django.core.management.base import CommandError

from patron.core.commands import PatronCommand
from patron.program import services
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Program-as-code: `patron program apply FILE --merchant S [--dry-run]`, `export`, `schema`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        apply = sub.add_parser("apply", help="validate and apply a YAML/JSON program file")
        apply.add_argument("file", help="path, or - for standard input")
        apply.add_argument("--merchant", required=True)
        apply.add_argument("--dry-run", action="store_true", help="print the diff only")
        export = sub.add_parser("export", help="print the current program as YAML")
        export.add_argument("--merchant", required=True)
        export.add_argument("--json", action="store_true", help="print JSON instead")
        sub.add_parser("schema", help="print the JSON Schema of program files (for editors)")

    def handle(self, *args, action, **options):
        if action == "schema":
            schema = services.program_json_schema()
            self.stdout.write(json.dumps(schema, ensure_ascii=False, indent=2))
            return
        actor = Actor.system(merchant_by_slug(options["merchant"]))
        if action == "export":
            program = services.export_program(actor)
            if options["json"]:
                self.stdout.write(json.dumps(program, ensure_ascii=False, indent=2))
            else:
                self.stdout.write(services.dump_yaml(program), ending="")
            return
        text = self._read(options["file"])
        document = services.parse_document(text)
        changes = services.apply_program(actor, document, dry_run=options["dry_run"])
        for change in changes:
            self.stdout.write(str(change))
        verb = "would change" if options["dry_run"] else "changed"
        self.stdout.write(f"{len(changes)} change(s) {verb}" if changes else "no changes")

    def _read(self, name: str) -> str:
        if name == "-":
            return sys.stdin.read()
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"No such file: {name}")
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(f"{name} is not UTF-8 text") from None
