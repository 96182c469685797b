"""`slmlab app`: serve the live Gradio demo (app/) on 127.0.0.1:7860 by default.

The demo is not part of the library: its code is imported from the app/ folder of the checkout
(or --app-dir). Flags come from AppArgs (slmlab.cli_args)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from slmlab.cli_args import add_config_args, config_kwargs
from slmlab.config import ConfigError

APP_DIR_ENV = "SLMLAB_APP_DIR"


def app_dir(given: str | Path | None = None) -> Path:
    """Where the demo's code is: `given`, else $SLMLAB_APP_DIR, else ./app (the checkout's
    root is the working directory of `make app` and of the README's commands)."""
    return Path(given or os.environ.get(APP_DIR_ENV) or Path.cwd() / "app").resolve()


def import_app(module: str = "main", where: str | Path | None = None):
    """Import `app.<module>` from the app package at `app_dir(where)`, by its location (the
    package is not installed with slmlab: it is the demo, not the library)."""
    d = app_dir(where)
    loaded = sys.modules.get("app")
    if loaded is None:
        if not (d / "__init__.py").is_file():
            raise FileNotFoundError(f"the demo's code is not at {d}: run `slmlab app` from the "
                                    f"repository's root, or pass --app-dir (or set {APP_DIR_ENV})")
        spec = importlib.util.spec_from_file_location("app", d / "__init__.py",
                                                      submodule_search_locations=[str(d)])
        loaded = importlib.util.module_from_spec(spec)
        sys.modules["app"] = loaded
        spec.loader.exec_module(loaded)
    elif Path(list(loaded.__path__)[0]).resolve() != d and where is not None:
        raise ValueError(f"another app package is already loaded from {list(loaded.__path__)[0]}")
    return importlib.import_module(f"app.{module}")


@dataclass
class AppArgs:
    """How the demo is served."""

    model: str | None = None  # checkpoint dir (or run dir with `latest`); default app/model/
    host: str = "127.0.0.1"  # address to bind (0.0.0.0 = every interface)
    port: int = 7860  # TCP port (0 = any free port)
    share: bool = False  # also open a public gradio.live link (needs the internet)
    app_dir: str | None = None  # the demo's code (default $SLMLAB_APP_DIR, else ./app)
    file_ttl: int = 600  # seconds: older uploads and outputs are deleted from Gradio's cache
    umap: bool = True  # UMAP maps (--no-umap: PCA only, no UMAP fitting)

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535; got {self.port!r}")


def _yes_no(value: str) -> bool:
    v = value.lower()
    if v in ("yes", "y", "true", "1"):
        return True
    if v in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no; got {value!r}")


def _check_port(host: str, port: int) -> None:
    """Fail in one line before the model loads when host:port cannot be bound."""
    if port == 0:
        return
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise ValueError(f"cannot listen on {host}:{port} ({e.strerror}): pick another "
                             "--port (0 = any free port) or stop what uses it") from None


def _run(args: argparse.Namespace) -> int:
    a = AppArgs(**config_kwargs(AppArgs, args))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    _check_port(a.host, a.port)
    main = import_app("main", a.app_dir)
    print(f"slmlab app: loading {a.model or 'app/model (default)'} ...", flush=True)
    main.launch(a.model, host=a.host, port=a.port, share=a.share, umap=a.umap,
                file_ttl=a.file_ttl)
    return 0


def add_cli(subparsers) -> None:
    p = subparsers.add_parser(
        "app", help="serve the live demo (Gradio) on 127.0.0.1:7860",
        description="Serve the live demo: continue spoken prompts, cross-lingual cloze, and "
                    "the representation map of a checkpoint. Binds to 127.0.0.1 unless --host "
                    "says otherwise.")
    add_config_args(p, AppArgs, skip=("share",))
    # --share yes|no (the README's form) and a bare --share; the default is AppArgs.share
    p.add_argument("--share", type=_yes_no, nargs="?", const=True,
                   default=AppArgs.share, metavar="yes|no",
                   help="also open a public gradio.live link (needs the internet; default no)")
    p.set_defaults(func=_run)
