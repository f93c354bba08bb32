import json

from django.core.management.base import BaseCommand, CommandError

from photostudio.health import probes


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
        answers = [probe() for probe in probes().values()]
        if as_json:
            self.stdout.write(json.dumps([answer.as_dict() | _cause(answer) for answer in answers]))
        else:
            self._table(answers)
        down = [answer.component for answer in answers if not answer.ok]
        if down:
            raise CommandError(f"Down: {', '.join(down)}.")

    def _table(self, probes) -> None:
        width = max(len(probe.component) for probe in probes)
        for probe in probes:
            status = self.style.SUCCESS("up  ") if probe.ok else self.style.ERROR("DOWN")
            facts = " ".join(f"{key}={value}" for key, value in probe.facts.items())
            detail = facts if probe.ok else f"{probe.error} {probe.cause} {facts}"
            # One line per part, however many lines the driver's error spans.
            self.stdout.write(f"{probe.component.ljust(width)}  {status}  {' '.join(detail.split())}".rstrip())


def _cause(probe) -> dict:
    # The shell is ops' own: the driver's text that the /health answers leave out.
    return {"cause": probe.cause} if probe.cause else {}
