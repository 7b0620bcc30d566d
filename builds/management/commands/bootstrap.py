from django.core.management.base import BaseCommand

from builds.bootstrap import bootstrap_all


class Command(BaseCommand):
    help = "Load the curated catalogue, model presets and example builds. Idempotent: a second run changes nothing."

    def handle(self, *args, **options):
        summary = bootstrap_all()
        for line in summary:
            self.stdout.write(line)
