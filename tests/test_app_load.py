"""Load, small: concurrent gradio_client clients against one live server, several rounds.

Zero errors allowed; every continuation must come back as playable audio; the process's memory
must stay flat after the first round and Gradio's file cache must be emptied of the rounds'
files once they are older than the server's file TTL. The full-size run (20 clients x 5
requests x 4 rounds, RSS of a separate server process) is benchmarks/bench_app_load.py.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import ROOT, free_port
from load import dir_bytes, one_client, rss_mb

CLIENTS, REQUESTS, ROUNDS = 8, 4, 3
FILE_TTL = 4  # seconds: the rounds' files must be gone a few seconds after the last round

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def load_server(demo_session):
    """A second server over the same session, with a short file TTL."""
    from slmlab.cli.app import import_app

    main = import_app("main", ROOT / "app")
    demo = main.launch(session=demo_session, port=free_port(), block=False, file_ttl=FILE_TTL)
    yield demo
    demo.close()


def test_concurrent_clients_zero_errors_flat_memory_bounded_file_cache(load_server, tmp_path):
    from gradio import utils

    cache = utils.get_upload_folder()
    n_layers = load_server.session.n_layers
    base = dir_bytes(cache)  # files of other servers in this process (not ours to delete)
    rss, errors = [], []
    for r in range(ROUNDS):
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(
                lambda i: one_client(load_server.local_url, i, REQUESTS, n_layers,
                                     tmp_path / f"r{r}c{i}"), range(CLIENTS)))
        errors += [e for res in results for e in res]
        rss.append(rss_mb())
    assert not errors, f"{len(errors)} errors in {ROUNDS * CLIENTS * REQUESTS} requests: {errors[:5]}"
    assert max(rss[1:]) - rss[0] <= 50, f"RSS grew after round 1: {rss} MB"
    added = dir_bytes(cache) - base
    assert added > 0  # the rounds did write files

    def left() -> int:
        return dir_bytes(cache) - base

    deadline = time.monotonic() + 6 * FILE_TTL
    while time.monotonic() < deadline and left() > added / 4:
        time.sleep(0.5)
    assert left() <= added / 4, f"Gradio's cache kept {left()} of the {added} bytes the rounds added"
