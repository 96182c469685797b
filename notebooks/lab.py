"""What the teaching notebooks share: one small world built once, and audio players.

Lives next to the notebooks (they run with notebooks/ as their working directory and
`import lab as nb`); it is not part of the slmlab library, only a user of it.

The notebooks (notebooks/0N_*.ipynb) run top to bottom on a 2-core CPU in a few minutes because
they share one run dir (default `runs/notebooks/` beside notebooks/, or the RUN_DIR they are
given):

    corpus/              the small corpus (slmlab.corpus): stories, speech, tokenizer, eval set
    ckpt/stage{1,2,3}/   the three-stage recipe on the `tiny` preset (slmlab.stages)
    arms/<arm>/          baseline arms continued from stage 1 at the budget of stages 2 + 3

Each `ensure_*` function builds what is missing and reuses what exists (the corpus and the
trainer both resume and skip finished work), so the first notebook that needs an artifact pays
for it and the others reuse it. `SmallWorld` holds every size; the notebooks' parameters cells
point at bigger runs instead (a corpus dir, checkpoints, or experiment results under results/).
The sizes and configs are `slmlab.recipes.notebook_world` (`SmallWorld` is its NotebookWorld).
"""

from __future__ import annotations

import base64
import html
import io
import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from slmlab.constants import SAMPLE_RATE
from slmlab.recipes import NotebookWorld as SmallWorld  # noqa: F401  (the notebooks' name)
from slmlab.recipes import notebook_world

# tqdm.auto (imported by datasets and slmlab.corpus) warns in a kernel without ipywidgets; the
# notebooks disable progress bars anyway, so the warning is only noise under a cell
warnings.filterwarnings("ignore", message="IProgress not found")

# arms whose checkpoint is the recipe's own stage, not a separate run
RECIPE_ARMS = {"stage1": "1", "interleave+finetune": "3"}


NOTEBOOKS_DIR = Path(__file__).resolve().parent
# the committed GPU reproduction (issue 13): results/<run>/<experiment>/results.json
GPU_RUN = NOTEBOOKS_DIR.parent / "results" / "experiment-small-h200-100k"


def gpu_results(experiment: str = "exp-small") -> dict:
    """One experiment of the committed GPU reproduction (its README says how it ran):
    "exp-small" (four arms x three seeds), "exp-small-fr", "sweep-small" (p 0.1, 0.9),
    "sweep3-small", "sweep7-small" or "ft30-small"."""
    return json.loads((GPU_RUN / experiment / "results.json").read_text())


def notebook_run_dir(run_dir: str | Path | None = None) -> Path:
    """The shared run dir: `run_dir` if given, else runs/notebooks beside this folder (the
    same whichever notebook asks, whatever the kernel's working directory)."""
    if run_dir:
        return Path(run_dir).expanduser().resolve()
    return (NOTEBOOKS_DIR.parent / "runs" / "notebooks").resolve()


# ------------------------------------------------------------------ corpus and checkpoints


def corpus_config(run_dir: str | Path | None = None, world: SmallWorld | None = None):
    """The `CorpusConfig` of the small world under run_dir/corpus (slmlab.recipes)."""
    return notebook_world(notebook_run_dir(run_dir), world).corpus


def ensure_corpus(run_dir: str | Path | None = None, world: SmallWorld | None = None) -> Path:
    """The small corpus dir, built on first use (~1 min on 2 cores), reused afterwards."""
    from slmlab.corpus import META_FILE, build_corpus

    cfg = corpus_config(run_dir, world)
    out = Path(cfg.out)
    if (out / META_FILE).exists():
        return out
    print(f"building the small corpus in {out} (once; later notebooks reuse it) ...", flush=True)
    return build_corpus(cfg)


def recipe(run_dir: str | Path | None = None, world: SmallWorld | None = None):
    """The three-stage `Recipe` of the small world (checkpoints under run_dir/ckpt)."""
    ensure_corpus(run_dir, world)
    return notebook_world(notebook_run_dir(run_dir), world).steps["stages"].config()


def ensure_stages(run_dir: str | Path | None = None, world: SmallWorld | None = None
                  ) -> dict[str, Path]:
    """{stage: final checkpoint dir} of the recipe, training whatever is missing."""
    from slmlab.stages import run_recipe

    return {k: Path(v) for k, v in run_recipe(recipe(run_dir, world)).items()}


def ensure_arms(run_dir: str | Path | None = None, world: SmallWorld | None = None
                ) -> dict[str, Path]:
    """{arm: final checkpoint dir}: stage 1, the baselines of `world.arms`, and the recipe
    (stages 2 + 3 are the arm 'interleave+finetune' at the same budget)."""
    from slmlab.stages import run_arm

    w = world or SmallWorld()
    stages = ensure_stages(run_dir, w)
    stage1_cfg = recipe(run_dir, w).configs()["1"]
    arms = {"stage1": stages["1"]}
    for arm in w.arms:
        if arm not in RECIPE_ARMS:
            arms[arm] = Path(run_arm(stage1_cfg, arm, notebook_run_dir(run_dir) / "arms"))
    arms["interleave+finetune"] = stages["3"]
    return arms


def metrics_files(ckpt_root: str | Path) -> dict[str, Path]:
    """{stage name: metrics.jsonl} of a recipe root (stage1/, stage2/, stage3/ under it)."""
    root = Path(ckpt_root)
    return {f"stage {p.parent.name[-1]}": p for p in sorted(root.glob("stage*/metrics.jsonl"))}


# ------------------------------------------------------------------ audio players


def _wav_bytes(wav: np.ndarray, rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(wav, dtype=np.float32), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def audio(wav: np.ndarray | Sequence[float], rate: int = SAMPLE_RATE):
    """An IPython audio player for a float waveform [T] (not rescaled: levels compare)."""
    from IPython.display import Audio

    return Audio(data=_wav_bytes(np.clip(np.asarray(wav, np.float32), -1, 1), rate), rate=rate)


def audio_table(rows: Sequence[tuple[str, str, np.ndarray]], rate: int = SAMPLE_RATE,
                headers: tuple[str, str, str] = ("", "text", "listen")):
    """An HTML table of (label, text, waveform [T]) rows, one player per row."""
    from IPython.display import HTML

    cells = []
    for label, text, wav in rows:
        b64 = base64.b64encode(_wav_bytes(np.clip(np.asarray(wav, np.float32), -1, 1), rate))
        player = f'<audio controls preload="none" src="data:audio/wav;base64,{b64.decode()}"></audio>'
        cells.append(f"<tr><td><b>{html.escape(str(label))}</b></td>"
                     f"<td style='text-align:left'>{html.escape(str(text))}</td><td>{player}</td></tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return HTML(f"<table><tr>{head}</tr>{''.join(cells)}</table>")
