"""Shared fixtures: the app's stand-in checkpoint, session and live server, built once per run.

Tiers (markers, see pyproject.toml): unit tests are unmarked and fast; `e2e` tests drive whole
programs (a real browser, the load test, the notebooks, quickstart, torchrun); `browser` ones
need Debian's chromium. `make test` runs the unit tier first, then the e2e tier.

The demo's code is not part of the installed library: `app` is imported here from the
checkout's app/ by its location (as `slmlab app` does), so tests can `import app.session`.
"""

from __future__ import annotations

import os

import pytest
import torch

from fakes import fake_corpus
from helpers import ROOT, free_port
from slmlab.cli.app import import_app

import_app("session", ROOT / "app")  # registers the `app` package for the test modules

N_UNITS = 64  # the stand-in's tokenizer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A fake corpus (12 + 3 stories of random units) for fast training and resume tests."""
    torch.set_num_threads(1)
    return fake_corpus(tmp_path_factory.mktemp("corpus") / "c", n_train=12, n_heldout=3)


@pytest.fixture(scope="session")
def standin_ckpt(tmp_path_factory):
    """A tiny checkpoint (64 units, tiny preset, 2 steps of slmlab.train) with its tokenizer
    and reference set: see tests/standins.py."""
    import torch

    from standins import make_demo_checkpoint

    torch.set_num_threads(1)
    return make_demo_checkpoint(tmp_path_factory.mktemp("standin") / "ckpt", n_units=N_UNITS,
                                n_stories=3, train_steps=2)


@pytest.fixture(scope="session")
def demo_session(standin_ckpt, tmp_path_factory):
    """The demo engine over the stand-in (PCA maps only: UMAP has its own test)."""
    from app.session import DemoSession

    return DemoSession(standin_ckpt, umap=False, cache=tmp_path_factory.mktemp("demo-cache"))


@pytest.fixture(scope="session")
def demo_server(demo_session):
    """The demo served on 127.0.0.1:<free port> in this process, closed at the end."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    main = import_app("main", ROOT / "app")
    demo = main.launch(session=demo_session, port=free_port(), block=False)
    yield demo
    # stop after in-flight model work ends: a worker thread killed inside torch's C++ during
    # interpreter shutdown aborts the process ('terminate called ...', exit 134)
    for lock in (demo_session.model_lock, demo_session.maps.lock):
        if lock.acquire(timeout=60):
            lock.release()
    demo.close()


@pytest.fixture(scope="session")
def make_client(demo_server, tmp_path_factory):
    """make_client(name) -> a gradio_client Client of the live demo (own download dir)."""
    from gradio_client import Client

    downloads = tmp_path_factory.mktemp("downloads")

    def make(name: str = "main"):
        return Client(demo_server.local_url, verbose=False, analytics_enabled=False,
                      download_files=str(downloads / name))

    return make
