"""Whole runs as named recipes: the plans hold the sizes the CLI, the notebooks and the GPU
script use, and their steps become valid configs once the corpus exists."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from slmlab import recipes
from slmlab.config import ConfigError
from slmlab.experiment import ExperimentConfig
from slmlab.stages import Recipe

ROOT = Path(__file__).resolve().parents[1]


def _fake_corpus(plan: recipes.Plan) -> None:
    (Path(plan.corpus.out) / "eval").mkdir(parents=True)  # what ExperimentConfig checks


def test_quickstart_plan_carries_every_size_of_its_config(tmp_path):
    cfg = recipes.QuickstartConfig(out=tmp_path, n_stories=40, eval_items=12, budget_tokens=5000,
                                   batch_size=4, aligned_pairs=30, seed=3)
    plan = recipes.quickstart(cfg)
    assert (plan.corpus.n_stories, plan.corpus.eval_items, plan.corpus.aligned_pairs,
            plan.corpus.seed) == (40, 12, 30, 3)
    _fake_corpus(plan)
    exp = plan.steps["experiment"].config()
    assert isinstance(exp, ExperimentConfig)
    assert (exp.budget_tokens, exp.seeds, exp.probe_limit) == (5000, (3,), 30)
    assert exp.train["batch_size"] == 4 and exp.train["device"] == "cpu"
    assert Path(plan.corpus.out).parent == exp.out.parent == Path(tmp_path)


def test_notebook_world_is_a_three_stage_recipe_on_the_cpu(tmp_path):
    world = recipes.NotebookWorld(total_steps=30, arms=["mixed"])
    plan = recipes.notebook_world(tmp_path, world)
    rec = plan.steps["stages"].config()
    assert isinstance(rec, Recipe) and rec.total_steps == 30 and rec.train["device"] == "cpu"
    assert plan.corpus.workers == 1 and Path(rec.out) == tmp_path / "ckpt"
    assert world.arms == ("mixed",)
    with pytest.raises(ConfigError, match="heldout_fraction"):
        recipes.NotebookWorld(heldout_fraction=0.9)


def test_a_plan_step_that_does_not_exist_is_refused_before_any_work(tmp_path):
    plan = recipes.demo_model(tmp_path)
    with pytest.raises(ConfigError, match="steps of demo-model"):
        recipes.run_plan(plan, only=["nope"])
    assert not (tmp_path / "corpus").exists()


def _script_default(text: str, name: str) -> str:
    return re.search(rf"^{name}=\$\{{{name}:-([^}}]*)\}}", text, re.M).group(1)


def test_gpu_recipe_matches_the_gpu_script():
    """scripts/gpu_experiment.sh and recipes.gpu_reproduction describe the same runs."""
    out = subprocess.run([sys.executable, "-m", "slmlab", "recipe", "gpu-reproduction", "--print"],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    plan = json.loads(out.stdout)
    script = (ROOT / "scripts" / "gpu_experiment.sh").read_text()
    exp, sweep = plan["steps"]["exp"], plan["steps"]["sweep"]
    assert plan["corpus"]["n_stories"] == int(_script_default(script, "STORIES"))
    assert plan["corpus"]["eval_items"] == int(_script_default(script, "EVAL_ITEMS"))
    assert plan["corpus"]["shard_size"] == int(_script_default(script, "SHARD_SIZE"))
    assert exp["budget_tokens"] == int(float(_script_default(script, "BUDGET").split()[0]))
    assert exp["seeds"] == [int(s) for s in _script_default(script, "SEEDS").split()]
    assert exp["preset"] == _script_default(script, "PRESET")
    assert sweep["sweep_p"] == [float(p) for p in _script_default(script, "SWEEP_P").split()]
    ft = plan["steps"]["ft30"]  # the extras continue the main run's stage 1, as the script's
    assert re.search(r"--stage1-from \"\$RUN/exp-\$PRESET\"", script)
    assert {sweep["stage1_from"], ft["stage1_from"]} == {exp["out"]}
    assert ft["ratios"] == [float(r) for r in re.search(r"--ratios ([0-9,]+)", script).group(1).split(",")]
    flags = dict(re.findall(r"--(lr|warmup|log-every|probe-limit|aligned-pairs) (\S+)", script))
    assert exp["train"]["batch_size"] == int(_script_default(script, "BATCH"))
    assert exp["context"] == int(_script_default(script, "CONTEXT"))
    assert exp["train"]["lr"] == float(flags["lr"])
    assert exp["train"]["warmup"] == int(flags["warmup"])
    assert exp["probe_limit"] == int(flags["probe-limit"])
    assert plan["corpus"]["aligned_pairs"] == int(flags["aligned-pairs"])
    from slmlab.recipes import demo_model

    app_tokens = re.search(r"\$\{APP_TOKENS:-([^}]*)\}", script).group(1)
    assert demo_model().steps["stages"].settings["total_tokens"] == int(float(app_tokens))
