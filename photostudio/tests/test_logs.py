import json
import logging
import logging.config

import pytest
import structlog
from django.conf import settings

from photostudio.logs import logging_config


@pytest.fixture
def log_to_file(tmp_path):
    """Apply a LOGGING with LOG_FILE set, then put the suite's own back."""

    def apply(**options):
        log_file = tmp_path / "studio.log"
        logging.config.dictConfig(logging_config("INFO", log_file=str(log_file), **options))
        return log_file

    yield apply
    logging.config.dictConfig(settings.LOGGING)


def test_log_file_receives_the_same_json_lines_as_stdout(log_to_file, capsys):
    log_file = log_to_file(max_bytes=1024 * 1024, backups=2)
    structlog.get_logger("photostudio.test").info("booking_confirmed", booking_id=7)

    line = json.loads(log_file.read_text().strip())
    assert (line["event"], line["booking_id"], line["level"]) == ("booking_confirmed", 7, "info")
    assert json.loads(capsys.readouterr().out.strip()) == line


def test_log_file_is_rotated_at_its_size_keeping_the_configured_backups(log_to_file):
    log_file = log_to_file(max_bytes=2048, backups=2)
    logger = structlog.get_logger("photostudio.test")
    for number in range(200):
        logger.info("filler", number=number, padding="x" * 40)

    kept = sorted(path.name for path in log_file.parent.iterdir())
    assert kept == ["studio.log", "studio.log.1", "studio.log.2"]
    assert all(path.stat().st_size <= 2048 for path in log_file.parent.iterdir())
    last = json.loads(log_file.read_text().strip().splitlines()[-1])
    assert last["number"] == 199
