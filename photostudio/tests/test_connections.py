import logging

from photostudio.connections import log_connection_share


def _share_records(caplog):
    return [record.msg for record in caplog.records if isinstance(record.msg, dict)]


def test_each_process_logs_its_share_of_the_database_connections(settings, caplog):
    settings.DATABASE_URL = "postgresql://studio@db:5432/studio"
    settings.DATABASE_POOL_SIZE = 2
    settings.DATABASE_MAX_OVERFLOW = 1
    with caplog.at_level(logging.INFO, logger="photostudio.connections"):
        log_connection_share(role="web", processes_in_container=3)

    [share] = _share_records(caplog)
    assert share["event"] == "database_connection_share"
    assert (share["role"], share["process_max_connections"], share["container_max_connections"]) == ("web", 3, 9)


def test_nothing_is_logged_on_sqlite_which_has_no_pool(settings, caplog):
    settings.DATABASE_URL = ""
    with caplog.at_level(logging.INFO, logger="photostudio.connections"):
        log_connection_share(role="worker", processes_in_container=2)
    assert _share_records(caplog) == []
