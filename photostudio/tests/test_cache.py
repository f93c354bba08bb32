"""photostudio.cache: two tiers, versioned namespaces, decorators, locks, and a dead Redis."""

import threading
import time
from contextlib import suppress

import pytest
from django.db import DEFAULT_DB_ALIAS, transaction
from django.test import Client
from prometheus_client import REGISTRY

from photostudio import replicas
from photostudio.cache import _L1, MAX_LEASE, TwoTierCache, cache, cache_invalidate, cached


@pytest.fixture
def computed():
    """A counter of computations and a function that bumps it and returns the new count."""
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    compute.calls = calls
    return compute


def another_instance() -> TwoTierCache:
    """A second app process as far as the cache goes: its own L1, the same L2."""
    return TwoTierCache(l1_max_size=100, l1_ttl=60)


def test_a_cached_value_is_computed_once(computed):
    first = cache.get_or_set("answer", computed, namespaces=["tests"])
    second = cache.get_or_set("answer", computed, namespaces=["tests"])

    assert (first, second, len(computed.calls)) == (1, 1, 1)


def test_invalidating_a_namespace_drops_its_values_and_no_other(computed):
    cache.get_or_set("dropped", computed, namespaces=["tests", "day:2030-01-14"])
    cache.get_or_set("kept", lambda: "kept", namespaces=["tests"])

    cache.invalidate("day:2030-01-14")

    assert cache.get_or_set("dropped", computed, namespaces=["tests", "day:2030-01-14"]) == 2
    assert cache.get("kept", namespaces=["tests"]) == "kept"


def test_an_invalidation_in_one_instance_reaches_another_instances_l1_at_once(computed):
    reader, writer = another_instance(), another_instance()
    reader.get_or_set("day list", computed, namespaces=["day:2030-01-14"])
    assert reader.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 1  # from its L1

    writer.invalidate("day:2030-01-14")

    assert reader.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2


def test_a_value_computed_by_one_instance_is_read_by_another_from_l2(computed):
    another_instance().get_or_set("shared", computed, namespaces=["tests"])

    assert another_instance().get_or_set("shared", computed, namespaces=["tests"]) == 1


def test_a_value_refiled_under_an_old_versioned_key_does_not_survive_an_invalidation():
    key = cache.versioned_key("caller:1", namespaces=["employee:1"])
    cache.set_versioned(key, "signed in")

    cache.invalidate("employee:1")
    cache.set_versioned(key, "signed in, seen again")

    assert cache.get("caller:1", namespaces=["employee:1"]) is None


def test_l1_keeps_at_most_its_size_dropping_the_least_recently_used():
    l1 = _L1(max_size=2, ttl=60)
    l1.set("a", 1, 60)
    l1.set("b", 2, 60)
    l1.get("a")
    l1.set("c", 3, 60)

    assert (l1.get("a"), l1.get("c"), len(l1)) == (1, 3, 2)


def test_l1_forgets_a_value_after_its_ttl():
    now = [1000.0]
    l1 = _L1(max_size=10, ttl=5, clock=lambda: now[0])
    l1.set("a", 1, 60)

    now[0] += 6

    assert l1.get("a", "gone") == "gone"


@pytest.mark.django_db
def test_cached_decorator_caches_per_arguments_until_its_prefix_is_invalidated(computed):
    @cached(ttl=300, key_prefix="guide_bookings")
    def bookings_for(day):
        return (day, computed())

    assert bookings_for("2030-01-14") == ("2030-01-14", 1)
    assert bookings_for("2030-01-15") == ("2030-01-15", 2)
    assert bookings_for("2030-01-14") == ("2030-01-14", 1)

    @cache_invalidate("guide_bookings:*")
    def update_booking():
        return "updated"

    assert update_booking() == "updated"
    assert bookings_for("2030-01-14") == ("2030-01-14", 3)


def test_cache_invalidate_takes_only_a_namespace_pattern():
    with pytest.raises(ValueError, match="namespace pattern"):
        cache_invalidate("booking")


def test_a_held_lock_is_refused_to_a_second_holder_and_free_again_after():
    with cache.lock("tests.job", timeout=0) as first, another_instance().lock("tests.job", timeout=0) as second:
        assert (first, second) == (True, False)
    with cache.lock("tests.job", timeout=0) as again:
        assert again


def test_hits_and_misses_of_each_tier_are_on_metrics(computed):
    cache.get_or_set("counted", computed, namespaces=["tests"])
    cache.get_or_set("counted", computed, namespaces=["tests"])

    page = Client().get("/metrics").content.decode()

    for tier, result in [("l1", "hit"), ("l1", "miss"), ("l2", "miss")]:
        assert f'studio_cache_lookups_total{{result="{result}",tier="{tier}"}}' in page


def _lookups(tier: str, result: str) -> float:
    return REGISTRY.get_sample_value("studio_cache_lookups_total", {"tier": tier, "result": result}) or 0


def test_each_read_is_counted_once_under_its_tier_and_result(computed):
    tiers = [("l1", "hit"), ("l1", "miss"), ("l2", "hit"), ("l2", "miss")]
    before = {tier: _lookups(*tier) for tier in tiers}

    cache.get_or_set("counted", computed, namespaces=["tests"])
    cache.get_or_set("counted", computed, namespaces=["tests"])
    cache.clear_local()
    cache.get_or_set("counted", computed, namespaces=["tests"])

    counted = {tier: _lookups(*tier) - before[tier] for tier in tiers}
    assert counted == {("l1", "hit"): 1, ("l1", "miss"): 2, ("l2", "hit"): 1, ("l2", "miss"): 1}


def test_a_read_is_answered_when_its_lookup_cannot_be_counted(computed, monkeypatch):
    def unwritable(self, amount=1, exemplar=None):
        raise OSError("no samples directory")

    monkeypatch.setattr("prometheus_client.metrics.Counter.inc", unwritable)

    first = cache.get_or_set("counted", computed, namespaces=["tests"])
    again = cache.get_or_set("counted", computed, namespaces=["tests"])

    assert (first, again) == (1, 1)


def errors_counted(operation: str) -> float:
    return REGISTRY.get_sample_value("studio_cache_errors_total", {"operation": operation}) or 0


def test_with_redis_unreachable_reads_are_misses_and_writes_do_nothing(dead_redis, computed):
    assert cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 1
    assert cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2
    cache.set("written", "value", namespaces=["tests"])
    assert cache.get("written", namespaces=["tests"]) is None
    cache.invalidate("day:2030-01-14")


@pytest.mark.parametrize("dead_redis", [False], ids=["raising"], indirect=True)
def test_an_unreachable_redis_is_counted(dead_redis):
    before = errors_counted("versions")

    cache.get("day list", namespaces=["day:2030-01-14"])

    assert errors_counted("versions") == before + 1


def test_with_redis_unreachable_a_lock_is_granted(dead_redis):
    with cache.lock("events.relay", timeout=0) as acquired:
        assert acquired


@pytest.fixture
def in_a_request():
    cache.begin_request()
    yield
    cache.end_request()


def test_a_request_reads_announced_namespaces_with_its_first_version_read(in_a_request, version_reads, computed):
    cache.announce("day:2030-01-14")

    cache.get_or_set("caller", computed, namespaces=["employee:1"])
    cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"])
    cache.get_or_set("caller", computed, namespaces=["employee:1"])

    assert version_reads == [["ns:day:2030-01-14", "ns:employee:1"]]


def test_a_request_reads_its_own_invalidation(in_a_request, computed):
    cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"])

    cache.invalidate("day:2030-01-14")

    assert cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2


def test_the_next_request_sees_another_instances_invalidation(computed):
    cache.begin_request()
    cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"])
    cache.end_request()

    another_instance().invalidate("day:2030-01-14")

    cache.begin_request()
    assert cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2
    cache.end_request()


def test_with_redis_unreachable_a_request_reads_misses(dead_redis, in_a_request, computed):
    cache.announce("day:2030-01-14")

    assert cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 1
    assert cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2


@pytest.fixture
def l2_writes(monkeypatch):
    """The namespace versions written to L2, one sorted list of keys per ``set_many`` round trip."""
    l2, writes = cache.l2, []
    set_many = l2.set_many

    def counted(data, *args, **kwargs):
        writes.append(sorted(data))
        return set_many(data, *args, **kwargs)

    monkeypatch.setattr(l2, "set_many", counted)
    return writes


@pytest.mark.django_db
def test_a_request_reads_its_own_uncommitted_change(in_a_request, computed):
    cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"])

    cache.invalidate_for_change("day:2030-01-14")

    assert cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2


@pytest.mark.django_db
def test_a_requests_changes_reach_other_instances_at_commit_in_one_write(
    in_a_request, computed, l2_writes, django_capture_on_commit_callbacks
):
    reader = another_instance()
    reader.get_or_set("day list", computed, namespaces=["day:2030-01-14"])

    with django_capture_on_commit_callbacks(execute=True):
        cache.invalidate_for_change("day:2030-01-14", "space:1:2030-01-14")
        cache.invalidate_for_change("month:2030-01")
        # Before the commit other instances cannot see the changed rows either.
        assert reader.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 1

    assert len(l2_writes) == 1
    assert {"ns:day:2030-01-14", "ns:month:2030-01", "ns:space:1:2030-01-14"} <= set(l2_writes[0])
    assert reader.get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2


@pytest.mark.django_db
def test_a_rolled_back_savepoint_loses_none_of_its_transactions_other_changes(
    in_a_request, l2_writes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with suppress(RuntimeError), transaction.atomic():
            cache.invalidate_for_change("day:2030-01-14")
            raise RuntimeError("rolled back")
        cache.invalidate_for_change("day:2030-01-15")

    assert len(l2_writes) == 1
    assert "ns:day:2030-01-15" in l2_writes[0]


@pytest.mark.django_db
def test_changes_l2_did_not_take_at_commit_are_written_at_the_next(
    in_a_request, computed, monkeypatch, django_capture_on_commit_callbacks
):
    reader = another_instance()
    reader.get_or_set("caller", computed, namespaces=["employee:7"])
    set_many = cache.l2.set_many

    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache.l2, "set_many", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        cache.invalidate_for_change("employee:7")
    assert reader.get_or_set("caller", computed, namespaces=["employee:7"]) == 1
    monkeypatch.setattr(cache.l2, "set_many", set_many)
    with django_capture_on_commit_callbacks(execute=True):
        cache.invalidate_for_change("day:2030-01-14")

    assert reader.get_or_set("caller", computed, namespaces=["employee:7"]) == 2


@pytest.mark.django_db
def test_outside_a_request_a_change_reaches_l2_before_it_commits(computed):
    cache.get_or_set("day list", computed, namespaces=["day:2030-01-14"])

    cache.invalidate_for_change("day:2030-01-14")  # a task's transaction reading its own write

    assert another_instance().get_or_set("day list", computed, namespaces=["day:2030-01-14"]) == 2


@pytest.mark.django_db(transaction=True)
def test_a_change_made_outside_a_transaction_is_written_once(in_a_request, l2_writes):
    cache.invalidate_for_change("day:2030-01-14")

    assert l2_writes == [["ns:day:2030-01-14"]]


def test_take_allows_exactly_the_limit_in_one_process():
    assert [cache.take("requests", limit=3, ttl=60) for _ in range(5)] == [True, True, True, False, False]


def test_take_counts_a_lease_at_a_time_in_l2(monkeypatch):
    increments, incr = [], cache.l2.incr
    monkeypatch.setattr(cache.l2, "incr", lambda key, delta=1: increments.append(delta) or incr(key, delta))

    taken = [cache.take("requests", limit=6400, ttl=60) for _ in range(100)]

    assert all(taken)
    assert cache.l2.get("requests") == 2 * MAX_LEASE
    assert increments == [MAX_LEASE, MAX_LEASE]  # the first found no counter and started it


def test_leases_shrink_near_the_limit_so_processes_together_never_pass_it():
    first, second = cache, another_instance()

    taken = [process.take("requests", limit=100, ttl=60) for _ in range(150) for process in (first, second)]

    assert taken.count(True) == 100
    assert not any(taken[-100:])


def test_threads_of_one_process_share_its_leases(monkeypatch):
    backend = type(cache.l2)  # each thread has its own instance
    incr = backend.incr
    # Each count takes a while, as over a network: other threads count meanwhile.
    monkeypatch.setattr(backend, "incr", lambda self, *args, **kwargs: time.sleep(0.002) or incr(self, *args, **kwargs))
    allowed = []

    def caller():
        for _ in range(150):
            allowed.append(cache.take("requests", limit=600, ttl=60))
            time.sleep(0.0005)  # a request's work, while the other threads count

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 600


def test_a_new_window_is_a_new_counter():
    spent = [cache.take("requests:1", limit=2, ttl=60) for _ in range(3)]

    assert spent == [True, True, False]
    assert cache.take("requests:2", limit=2, ttl=60)


def test_with_redis_unreachable_take_allows(dead_redis):
    assert all(cache.take("requests", limit=1, ttl=60) for _ in range(3))


@pytest.fixture
def a_reachable_replica(monkeypatch):
    """read_alias() would send a read to the replica ``replica_a`` (from a caller who has not written)."""
    monkeypatch.setattr(replicas, "replica_aliases", lambda: ["replica_a"])
    monkeypatch.setattr(replicas, "_reachable", lambda alias: True)
    wrote, recently_wrote = replicas._wrote.set(False), replicas._recently_wrote.set(False)
    yield
    replicas._wrote.reset(wrote)
    replicas._recently_wrote.reset(recently_wrote)


def test_a_value_kept_for_everyone_is_computed_from_the_primary(a_reachable_replica):
    # A replica behind would file what it held before a change under the versions after it.
    assert replicas.read_alias() == "replica_a"

    assert cache.get_or_set("test.alias", replicas.read_alias) == DEFAULT_DB_ALIAS
    assert cache.refresh("test.alias", replicas.read_alias) == DEFAULT_DB_ALIAS
    assert replicas.read_alias() == "replica_a"


def test_reads_go_to_the_replica_again_after_a_computation_failed(a_reachable_replica):
    def failing():
        raise RuntimeError("the computation failed")

    with pytest.raises(RuntimeError):
        cache.get_or_set("test.failing", failing)

    assert replicas.read_alias() == "replica_a"


def test_a_value_the_cache_cannot_keep_is_read_from_the_replica(a_reachable_replica, dead_redis):
    # Without L2 no version can be read: the value is computed for this request alone.
    assert cache.get_or_set("test.alias", replicas.read_alias, namespaces=["test"]) == "replica_a"
