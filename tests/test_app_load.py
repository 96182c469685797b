"""Load: 20 concurrent gradio_client clients x 5 requests each against one live server.

Zero errors allowed; every continuation must come back as playable audio. Requests alternate
a short continuation (1 s from a typed sentence) and a projection, so the run stays well under
a minute on 2 cores while exercising the queue, the model lock and the map lock together.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import soundfile as sf

from app_fixtures import client, server, session

CLIENTS, REQUESTS = 20, 5
TEXTS = [("The little cat finds a red ball.", "en"), ("Le petit chat trouve une balle rouge.", "fr")]


def _one_client(i: int) -> list[str]:
    errors: list[str] = []
    cl = client(f"client{i}")  # one download dir per client, as separate users have
    for j in range(REQUESTS):
        try:
            if (i + j) % 2 == 0:
                text, lang = TEXTS[(i + j) // 2 % 2]
                out = cl.predict(text, lang, 1.0, 0.8, 50, i * 10 + j, api_name="/continue_text")
                prompt, cont, status = out[0], out[1], out[3]
                wav, sr = sf.read(prompt)
                if sr != 24000 or len(wav) == 0:
                    errors.append(f"client {i} request {j}: bad prompt audio ({len(wav)} samples)")
                # an untrained stand-in may predict EOS first: no audio, and the status says so
                if cont is None and "stopped early" not in status:
                    errors.append(f"client {i} request {j}: no continuation and no reason")
                elif cont is not None and len(sf.read(cont)[0]) == 0:
                    errors.append(f"client {i} request {j}: empty continuation file")
            else:
                plot, text = cl.predict(j % session().n_layers, api_name="/project")
                if "layer" not in text.lower():
                    errors.append(f"client {i} request {j}: no projection text")
        except Exception as e:  # every failure is counted, none may happen
            errors.append(f"client {i} request {j}: {type(e).__name__}: {e}")
    return errors


@pytest.mark.browser  # a label for the heavier end-to-end tests (it still runs by default)
def test_twenty_concurrent_clients_five_requests_each_zero_errors():
    server()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(_one_client, range(CLIENTS)))
    elapsed = time.perf_counter() - t0
    errors = [e for r in results for e in r]
    assert not errors, f"{len(errors)} errors in {CLIENTS * REQUESTS} requests: {errors[:5]}"
    print(f"{CLIENTS * REQUESTS} requests from {CLIENTS} clients in {elapsed:.1f} s")
