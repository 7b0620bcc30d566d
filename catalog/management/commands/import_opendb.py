from django.core.management.base import BaseCommand, CommandError

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

    def handle(self, *args, path, ref, verbose_skips, **options):
        try:
            report = import_opendb(path, ref=ref)
        except OpenDBError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines(verbose=verbose_skips):
            self.stdout.write(line)
        return None
