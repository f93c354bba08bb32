"""The bench's own plumbing, without a server: which scenarios run, its arguments, wrk's output."""

import re
import time

import pytest

from bench.scenarios import SCENARIO_NAMES, Figures, Load, lua_script, parse_args, parse_wrk, summarise

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:18200
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    2.00ms  30.00ms   90.00%
    Req/Sec     1.00k   100.00     1.20k    70.00%
  Latency Distribution
     50%  850.00us
     75%    4.00ms
     90%    6.00ms
     99%    1.20s
  20000 requests in 10.00s, 5.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:   2000.50
Transfer/sec:    512.00KB
"""


def test_every_scenario_of_the_issue_runs_by_default():
    assert parse_args([]).scenarios == SCENARIO_NAMES
    assert {
        "trivial",
        "health",
        "day_cold",
        "day_cached",
        "busy_day",
        "create",
        "state_change",
        "login",
        "free_slots",
        "profile",
        "reports_month",
        "reports_5y",
    } == set(SCENARIO_NAMES)


def test_only_runs_the_chosen_scenarios_beside_the_trivial_view_in_the_usual_order():
    assert parse_args(["--only", "reports_5y", "create"]).scenarios == ["trivial", "create", "reports_5y"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--only", "nonsense"],
        ["--port", "80"],
        ["--connections", "0"],
        ["--threads", "9"],
        ["--warmup", "-1"],
        ["--rounds", "0"],
    ],
)
def test_bad_arguments_stop_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)

    assert stopped.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_wrk_output_is_read_in_milliseconds():
    figures = parse_wrk(WRK_OUTPUT)

    assert (figures.requests_per_second, figures.p50_ms, figures.p99_ms) == (2000.5, 0.85, 1200.0)
    assert (figures.requests, figures.failures) == (20000, 6)


def test_wrk_output_without_figures_is_refused():
    with pytest.raises(ValueError, match="no request rate"):
        parse_wrk("unable to connect to 127.0.0.1:18200 Connection refused")


def test_each_wrk_thread_sends_its_own_share_of_the_requests():
    script = lua_script(Load([("POST", "/api/v1/bookings/", '{"a": "b"}'), ("GET", "/health", None)]), threads=2)

    assert '{"POST", "/api/v1/bookings/", "{\\"a\\": \\"b\\"}"}' in script
    assert '{"GET", "/health", nil}' in script
    assert "(sent * 2 + id - 1) % #requests + 1" in script


def test_a_long_list_of_requests_is_split_into_functions_luajit_can_load():
    requests = [("POST", f"/api/v1/bookings/{pk}/state", '{"target_state": "confirmed"}') for pk in range(70_000)]

    script = lua_script(Load(requests), threads=2)

    # LuaJIT refuses a function of more than 65,536 constants: each path is one of them.
    functions = script.split("local function add_rows()")[1:]
    assert [function.count("/state") for function in functions] == [20_000, 20_000, 20_000, 10_000]


def test_the_cold_day_scenario_keeps_every_day_list_a_miss():
    from bench.__main__ import _day_lists_kept_cold
    from bookings.selectors import CALENDAR_NAMESPACE
    from photostudio.cache import cache

    cache.get_or_set("bench-test-day", lambda: "cached", namespaces=[CALENDAR_NAMESPACE])
    assert cache.get_or_set("bench-test-day", lambda: "computed", namespaces=[CALENDAR_NAMESPACE]) == "cached"
    with _day_lists_kept_cold():
        time.sleep(0.05)
    assert cache.get_or_set("bench-test-day", lambda: "computed", namespaces=[CALENDAR_NAMESPACE]) == "computed"


def figures(rate: float, p99: float = 10.0, failures: int = 0) -> Figures:
    return Figures(requests_per_second=rate, p50_ms=rate / 100, p99_ms=p99, requests=int(rate * 10), failures=failures)


def test_a_scenario_is_compared_with_the_trivial_view_of_its_own_round_and_summed_up_by_medians():
    rounds = [
        {"trivial": figures(1000), "profile": figures(500, p99=40.0, failures=1)},
        {"trivial": figures(2000), "profile": figures(600, p99=70.0)},
        {"trivial": figures(1000), "profile": figures(300, p99=20.0, failures=2)},
    ]

    profile = summarise(rounds)["profile"]

    # Shares 50%, 30% and 30%: against the first round's trivial view the second would read 60%.
    assert (profile.share, profile.lowest_share, profile.highest_share) == (30.0, 30.0, 50.0)
    assert (profile.requests_per_second, profile.p50_ms, profile.p99_ms) == (500, 5.0, 40.0)
    assert profile.failures == 3


def test_a_scenario_skipped_in_a_round_is_summed_up_over_the_rounds_it_ran_in():
    rounds = [{"trivial": figures(1000)}, {"trivial": figures(1000), "state_change": figures(100)}]

    assert summarise(rounds)["state_change"].share == 10.0


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_figures_name_the_database_they_were_read_from():
    from bench.__main__ import _database

    assert re.fullmatch(
        r"PostgreSQL \d+\.\d+\S*( .+)?, shared_buffers \d+[kMG]B, database \d+ (bytes|kB|MB|GB)", _database()
    )
