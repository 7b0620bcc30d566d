from django.core.management.base import BaseCommand, CommandError

from catalog.dmi import DEFAULT_PATH
from catalog.importers.firmware import import_board_firmware


class Command(BaseCommand):
    help = (
        "Give imported boards that match a firmware (DMI) table a slot table derived from it: widths, "
        "generation, CPU/chipset where the bus address tells; rows unknown. Curated boards are never written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dmi", default=str(DEFAULT_PATH), help="linuxhw-dmi-slots.jsonl.gz")

    def handle(self, *args, dmi, **options):
        try:
            report = import_board_firmware(dmi)
        except OSError as exc:
            raise CommandError(f"cannot read the DMI extract {dmi}: {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
