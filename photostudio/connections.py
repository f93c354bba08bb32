"""This process's share of PostgreSQL's connections, logged as it starts.

Every process keeps its own pool, so the processes of a deployment add up: docs/operations.md
has the sum that must fit PostgreSQL's ``max_connections``.
"""

import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)


def log_connection_share(*, role: str, processes_in_container: int) -> None:
    """Log how many connections this process may hold and its container's processes together."""
    if not settings.DATABASE_URL:
        return
    per_process = settings.DATABASE_POOL_SIZE + settings.DATABASE_MAX_OVERFLOW
    logger.info(
        "database_connection_share",
        role=role,
        pool_size=settings.DATABASE_POOL_SIZE,
        max_overflow=settings.DATABASE_MAX_OVERFLOW,
        process_max_connections=per_process,
        container_max_connections=per_process * processes_in_container,
    )
