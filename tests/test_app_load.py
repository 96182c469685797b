"""Load, small: concurrent gradio_client clients against one live server, several rounds.

Zero errors allowed; every continuation must come back as playable audio; the process's memory
(a separate server process) must stay flat after the first round and Gradio's file cache must be emptied of the rounds'
files once they are older than the server's file TTL. The full-size run (20 clients x 5
requests x 4 rounds, RSS of a separate server process) is benchmarks/bench_app_load.py.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import free_port
from load import dir_bytes, one_client, rss_mb, start_server, wait_up

CLIENTS, REQUESTS, ROUNDS = 8, 4, 3
FILE_TTL = 4  # seconds: the rounds' files must be gone a few seconds after the last round
N_LAYERS = 2  # projections alternate layers 0 and 1 (the stand-in has 2 layers)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def load_server(standin_ckpt, tmp_path_factory):
    """`slmlab app` on the stand-in checkpoint in its own process (so its memory is the
    server's alone, not this test process's clients'), a fresh Gradio cache, a short TTL."""
    work = tmp_path_factory.mktemp("load")
    env = {**os.environ, "GRADIO_TEMP_DIR": str(work / "gradio"),
           "GRADIO_ANALYTICS_ENABLED": "False", "SLMLAB_CACHE": str(work / "cache")}
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = start_server(str(standin_ckpt), port, env, work / "app.log", FILE_TTL)
    try:
        wait_up(proc, url)
        yield proc, url, work / "gradio"
    finally:
        proc.terminate()
        proc.wait(30)


def test_concurrent_clients_zero_errors_flat_memory_bounded_file_cache(load_server, tmp_path):
    proc, url, cache = load_server
    rss, errors = [], []
    for r in range(ROUNDS):
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(
                lambda i: one_client(url, i, REQUESTS, N_LAYERS, tmp_path / f"r{r}c{i}"),
                range(CLIENTS)))
        errors += [e for res in results for e in res]
        rss.append(rss_mb(proc.pid))
    assert not errors, f"{len(errors)} errors in {ROUNDS * CLIENTS * REQUESTS} requests: {errors[:5]}"
    assert max(rss[1:]) - rss[0] <= 50, f"server RSS grew after round 1: {rss} MB"
    added = dir_bytes(cache)
    assert added > 0  # the rounds did write files
    deadline = time.monotonic() + 6 * FILE_TTL
    while time.monotonic() < deadline and dir_bytes(cache) > added / 4:
        time.sleep(0.5)
    assert dir_bytes(cache) <= added / 4, \
        f"Gradio's cache kept {dir_bytes(cache)} of the {added} bytes the rounds wrote"
