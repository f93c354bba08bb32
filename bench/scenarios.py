"""What the bench loads, how it tells wrk, and how it reads wrk's answer. No Django here: the
scenario list, the argument parsing and the parsing of wrk's output are tested without a server."""

import argparse
import json
import re
import statistics
from dataclasses import dataclass, field

TRIVIAL_PATH = "/bench/trivial"
SCENARIOS = [
    ("trivial", "trivial Django JSON view (no middleware)"),
    ("health", "GET /health (the whole middleware stack)"),
    ("day_cold", "GET /api/v1/bookings/?date= (a different day each time, never cached)"),
    ("day_cached", "GET /api/v1/bookings/?date= (a quiet day, again and again)"),
    ("busy_day", "GET /api/v1/bookings/?date= (the day every slot is booked)"),
    ("create", "POST /api/v1/bookings/"),
    ("state_change", "POST /api/v1/bookings/{id}/state (confirm)"),
    ("free_slots", "GET /api/v1/spaces/{slug}/free-slots/?date="),
    ("profile", "GET /api/v1/employees/profile"),
    ("reports_month", "GET /api/v1/reports/ over a month"),
    ("reports_5y", "GET /api/v1/reports/ over five years"),
    # Last: a sign-in hashes the password (on purpose slow), and its backlog would slow what follows.
    ("login", "POST /api/v1/auth/login"),
]
SCENARIO_NAMES = [name for name, _ in SCENARIOS]


@dataclass
class Load:
    """The requests one scenario sends, in turn; each thread of wrk takes every n-th one so no
    two send the same (creates and state changes must not collide)."""

    requests: list[tuple[str, str, str | None]]  # (method, path, JSON body or None)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int  # non-2xx/3xx answers and socket errors


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Serve the studio under gunicorn (DATABASE_URL, REDIS_URL) beside a trivial Django view and "
        "load both with wrk from this process, printing req/s, p50, p99 and the share of the trivial view.",
    )
    parser.add_argument("--port", type=int, default=18200, help="loopback port gunicorn listens on (%(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (%(default)s)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients (%(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (%(default)s)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario (%(default)s)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each (%(default)s)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SCENARIO_NAMES,
        metavar="SCENARIO",
        help=f"run only these (always with trivial): {', '.join(SCENARIO_NAMES)}",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every scenario, the trivial view first, this many times and print each one's median (%(default)s)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args(argv)
    if not 1024 <= args.port <= 65535:
        parser.error("--port must be between 1024 and 65535")
    for name in ("workers", "connections", "threads", "duration", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")
    args.scenarios = (
        ["trivial", *[name for name in SCENARIO_NAMES if name != "trivial" and name in args.only]]
        if (args.only)
        else list(SCENARIO_NAMES)
    )
    return args


# Rows of requests per function of a wrk script: LuaJIT refuses a function of more than 65,536
# constants, and wrk then sends "GET /" instead of the scenario's requests.
LUA_ROWS_PER_FUNCTION = 20_000


def lua_script(load: Load, *, threads: int) -> str:
    """A wrk script that sends ``load``'s requests in turn, thread k taking the k-th of each round."""
    rows = [
        f"  {{{_lua_string(method)}, {_lua_string(path)}, {_lua_string(body) if body is not None else 'nil'}}}"
        for method, path, body in load.requests
    ]
    chunks = "\n".join(
        "do\n  local function add_rows()\n    for _, row in ipairs({\n"
        + ",\n".join(rows[start : start + LUA_ROWS_PER_FUNCTION])
        + "\n    }) do requests[#requests + 1] = row end\n  end\n  add_rows()\nend"
        for start in range(0, len(rows), LUA_ROWS_PER_FUNCTION)
    )
    headers = ", ".join(f"[{_lua_string(name)}] = {_lua_string(value)}" for name, value in load.headers.items())
    return f"""local requests = {{}}
{chunks}
local headers = {{{headers}}}
local next_id = 1
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
function init(args)
  sent = 0
end
function request()
  local index = (sent * {threads} + id - 1) % #requests + 1
  sent = sent + 1
  local r = requests[index]
  return wrk.format(r[1], r[2], headers, r[3])
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # JSON's escapes (\\ \" \n …) are Lua's too


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> Figures:
    """Read req/s, the 50th and 99th percentile latency and the failures from ``wrk --latency``."""

    def latency(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk printed no {percent}% latency:\n{output}")
        return float(match.group(1)) * _UNITS[match.group(2)]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if rate is None or total is None:
        raise ValueError(f"wrk printed no request rate:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failures = int(non_2xx.group(1)) if non_2xx else 0
    if errors:
        failures += sum(int(value) for value in errors.groups())
    return Figures(
        requests_per_second=float(rate.group(1)),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=int(total.group(1)),
        failures=failures,
    )


@dataclass(frozen=True)
class Summary:
    """A scenario over every round: the median of each figure, the median of its share of the
    trivial view's rate in the same round (and the lowest and highest), the failures of all."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    share: float
    lowest_share: float
    highest_share: float
    failures: int


def summarise(rounds: list[dict[str, Figures]]) -> dict[str, Summary]:
    """Each scenario's ``Summary`` over ``rounds``, each a run of the trivial view and the scenarios
    after it: a share compares a scenario with the trivial view of its own round, minutes apart
    at most, not with one measured at the start of the whole bench."""
    summaries = {}
    for name in dict.fromkeys(name for figures in rounds for name in figures):  # state_change may skip a round
        ran = [figures for figures in rounds if name in figures]
        shares = [
            100 * figures[name].requests_per_second / figures["trivial"].requests_per_second
            if figures["trivial"].requests_per_second
            else 0.0
            for figures in ran
        ]
        summaries[name] = Summary(
            requests_per_second=statistics.median(figures[name].requests_per_second for figures in ran),
            p50_ms=statistics.median(figures[name].p50_ms for figures in ran),
            p99_ms=statistics.median(figures[name].p99_ms for figures in ran),
            share=statistics.median(shares),
            lowest_share=min(shares),
            highest_share=max(shares),
            failures=sum(figures[name].failures for figures in ran),
        )
    return summaries
