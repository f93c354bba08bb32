import gc

from photostudio import gunicorn


def test_a_worker_keeps_what_it_loaded_out_of_full_garbage_collections():
    try:
        gunicorn.post_worker_init(worker=None)

        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
