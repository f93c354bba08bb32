import gc

import pytest

from photostudio import gunicorn


@pytest.fixture
def worker_started():
    threshold = gc.get_threshold()
    gunicorn.post_worker_init(worker=None)
    yield threshold
    gc.set_threshold(*threshold)
    gc.unfreeze()


def test_a_worker_keeps_what_it_loaded_out_of_full_garbage_collections(worker_started):
    assert gc.get_freeze_count() > 0


def test_a_worker_runs_full_garbage_collections_ten_times_less_often_than_python_would(worker_started):
    young, middle, _ = worker_started
    assert gc.get_threshold() == (young, middle, 100)
