import json

from django.core.management.base import BaseCommand, CommandError

from photostudio.health import PROBES


class Command(BaseCommand):
    help = (
        "Run the /health probes from the shell (app, database, cache, events) and print what is up. "
        "Exits non-zero when any part is down, so it can gate a deploy or a cron job."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the probes' answers as one JSON list."
        )

    def handle(self, *args, as_json: bool, **options):
        probes = [probe() for probe in PROBES.values()]
        if as_json:
            self.stdout.write(json.dumps([probe.as_dict() for probe in probes]))
        else:
            self._table(probes)
        down = [probe.component for probe in probes if not probe.ok]
        if down:
            raise CommandError(f"Down: {', '.join(down)}.")

    def _table(self, probes) -> None:
        width = max(len(probe.component) for probe in probes)
        for probe in probes:
            status = self.style.SUCCESS("up  ") if probe.ok else self.style.ERROR("DOWN")
            facts = " ".join(f"{key}={value}" for key, value in probe.facts.items())
            detail = facts if probe.ok else f"{probe.error} {facts}".strip()
            self.stdout.write(f"{probe.component.ljust(width)}  {status}  {detail}".rstrip())
