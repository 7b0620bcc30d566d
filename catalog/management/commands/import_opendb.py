from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.dmi import DEFAULT_PATH
from catalog.importers.firmware import import_board_firmware
from catalog.importers.opendb import OpenDBError, import_opendb


class Command(BaseCommand):
    help = (
        "Import the BuildCores OpenDB (ODC-By) snapshot at PATH (.tar.gz as published, or a directory of its "
        "JSON files) into the catalogue. Idempotent (matched by opendb_id); never overwrites curated parts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="buildcores-open-db-<sha>.tar.gz or a directory of extracted JSON files"
        )
        parser.add_argument(
            "--ref",
            default=None,
            help="git ref for source URLs (default: the sha in the file name, else main)",
        )
        parser.add_argument(
            "--verbose-skips", action="store_true", help="list every skipped row and its reason"
        )
        parser.add_argument(
            "--dmi",
            default=str(DEFAULT_PATH),
            help="firmware slot tables (linuxhw-dmi-slots.jsonl.gz): imported boards that match one get a "
            "firmware-derived slot table; skipped when the file is absent",
        )

    def handle(self, *args, path, ref, verbose_skips, dmi, **options):
        try:
            report = import_opendb(path, ref=ref)
        except OpenDBError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines(verbose=verbose_skips):
            self.stdout.write(line)
        if Path(dmi).exists():
            for line in import_board_firmware(dmi).lines():
                self.stdout.write(line)
        else:
            self.stdout.write(f"no firmware tables at {dmi}: imported boards keep no slot table")
        return None
