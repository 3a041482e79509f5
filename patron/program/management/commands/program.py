import json

from patron.core.commands import SUBCOMMANDS, PatronCommand, read_text_file
from patron.program import services
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Program-as-code: `patron program apply FILE --merchant S [--dry-run]`, `export`, `schema`,"
        " `simulate FILE --merchant S --from DATE --to DATE [--store S]`."
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
        for verb, (help_text, add, _run) in SUBCOMMANDS.get("program", {}).items():
            add(sub.add_parser(verb, help=help_text))

    def handle(self, *args, action, **options):
        added = SUBCOMMANDS.get("program", {}).get(action)
        if added is not None:
            added[2](self, options)
            return
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
        text = read_text_file(options["file"])
        document = services.parse_document(text)
        changes = services.apply_program(actor, document, dry_run=options["dry_run"])
        for change in changes:
            self.stdout.write(str(change))
        verb = "would change" if options["dry_run"] else "changed"
        self.stdout.write(f"{len(changes)} change(s) {verb}" if changes else "no changes")
