import json

from django.core.management.base import BaseCommand, CommandError

from catalog.boardcheck import check_board
from catalog.bootstrap import DATA_DIR
from catalog.dmi import DEFAULT_PATH, DMI_CREDIT, FirmwareIndex


class Command(BaseCommand):
    help = (
        "Compare every curated board (catalog/data/parts/motherboard.json) with its firmware slot tables and "
        "print each disagreement; fails when one is not explained in the data or a row cites no evidence."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dmi", default=str(DEFAULT_PATH), help="linuxhw-dmi-slots.jsonl.gz")
        parser.add_argument("--quiet", action="store_true", help="print only problems and the summary")

    def handle(self, *args, dmi, quiet, **options):
        try:
            index = FirmwareIndex.load(dmi)
        except OSError as exc:
            raise CommandError(f"cannot read the DMI extract {dmi}: {exc}") from exc
        records = json.loads((DATA_DIR / "parts" / "motherboard.json").read_text(encoding="utf-8"))
        bad = compared = rows = estimated = explained = 0
        for record in records:
            result = check_board(record, index)
            rows += result.rows
            estimated += result.estimated_rows
            compared += bool(result.reports)
            explained += len(result.disagreements) - len(result.unexplained)
            if result.reports:
                where = f"firmware {', '.join(result.models)} ({result.reports} reports)"
            elif result.template_only:
                where = "firmware tables are templates only: not compared"
            else:
                where = "no firmware table"
            if not result.ok or not quiet:
                self.stdout.write(
                    f"{record['slug']}: {where}; {result.estimated_rows}/{result.rows} rows estimated"
                )
            for d in result.disagreements:
                if d.explained and quiet:
                    continue
                tag = f"explained: {d.explained}" if d.explained else "UNEXPLAINED"
                self.stdout.write(f"  {d.field}: firmware {d.firmware!r}, catalogue {d.catalogue!r} -- {tag}")
            for e in result.evidence_errors:
                self.stdout.write(f"  {e}")
            bad += not result.ok
        self.stdout.write(
            f"{len(records)} curated boards, {compared} compared with firmware, {explained} disagreements "
            f"explained, {bad} with unexplained problems; {estimated}/{rows} rows estimated. {DMI_CREDIT}."
        )
        if bad:
            raise CommandError(f"{bad} board(s) disagree with their firmware or cite no evidence (see above)")
