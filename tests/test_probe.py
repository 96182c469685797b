"""Alignment, retrieval and projections of slmlab.probe on constructed and real tiny states."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from helpers import tiny_llama

from slmlab import evaluate as ev
from slmlab import plots, probe

N_UNITS = 16


def test_identical_pairs_cosine_one_and_positive_gap():
    x = np.random.default_rng(0).normal(size=(50, 64))
    r = probe.alignment(x, x)
    assert r["cos_pairs"] == pytest.approx(1.0)
    assert r["gap"] > 0.5 and r["retrieval_en_fr"] == 1.0 and r["retrieval_fr_en"] == 1.0


def test_gap_positive_when_closer_and_zero_for_random():
    rng = np.random.default_rng(1)
    en = rng.normal(size=(200, 64))
    close = en + 0.8 * rng.normal(size=en.shape)
    assert probe.alignment(en, close)["gap"] > 0.3
    rand = probe.alignment(en, rng.normal(size=en.shape))
    assert abs(rand["gap"]) < 0.05 and abs(rand["cos_pairs"]) < 0.05
    assert rand["retrieval_en_fr"] < 0.05  # chance is 1/200


def test_retrieval_accuracy_constructed():
    rng = np.random.default_rng(2)
    en = rng.normal(size=(10, 8))
    fr = en.copy()
    fr[[0, 1]] = fr[[1, 0]]  # two pairs swapped: 8 of 10 retrieved
    assert probe.retrieval_accuracy(en, fr) == pytest.approx(0.8)
    assert probe.alignment(en, fr)["retrieval_fr_en"] == pytest.approx(0.8)


def test_hidden_states_pooling_ignores_padding_and_bos():
    model = tiny_llama(N_UNITS + 3)
    units = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10], [11]]
    batched = probe.hidden_states(model, units, bos=N_UNITS, progress=False)
    assert batched.shape == (3, 3, 32)  # embeddings + 2 layers, 3 sentences, hidden 32
    for i, u in enumerate(units):
        one = probe.hidden_states(model, [u], bos=N_UNITS, progress=False)[:, 0]
        np.testing.assert_allclose(batched[:, i], one, atol=1e-5)
    # layer 0 mean = mean of the unit embeddings (BOS excluded)
    emb = model.get_input_embeddings().weight.detach().numpy()
    np.testing.assert_allclose(batched[0, 0], emb[[1, 2, 3]].mean(0), atol=1e-6)
    last = probe.hidden_states(model, units, bos=N_UNITS, pool="last", progress=False)
    np.testing.assert_allclose(last[0, 2], emb[11], atol=1e-6)


def test_projection_figure_carries_labels_texts_and_pair_lines():
    rng = np.random.default_rng(3)
    en, fr = rng.normal(size=(6, 16)), rng.normal(size=(6, 16))
    en_t, fr_t = [f"the cat {i}" for i in range(6)], [f"le chat {i}" for i in range(6)]
    proj, fig = probe.project_pairs(en, fr, en_t, fr_t, method="pca")
    names = [t.name for t in fig.data]
    assert names == ["translations", "en", "fr"]
    lines, en_tr, fr_tr = fig.data
    assert list(en_tr.text) == en_t and list(fr_tr.text) == fr_t
    assert en_tr.marker.color == plots.LANG_COLORS["en"] != fr_tr.marker.color
    assert len(lines.x) == 6 * 3  # (en, fr, gap) per pair
    # each line joins a sentence's EN point to its own FR point
    assert (lines.x[0], lines.y[0]) == (en_tr.x[0], en_tr.y[0])
    assert (lines.x[1], lines.y[1]) == (fr_tr.x[0], fr_tr.y[0])


def test_projector_transform_and_nearest():
    rng = np.random.default_rng(4)
    ref = rng.normal(size=(8, 16))
    proj = probe.Projector("pca").fit(ref, ["en"] * 4 + ["fr"] * 4, [f"s{i}" for i in range(8)])
    np.testing.assert_allclose(proj.transform(ref), proj.coords, atol=1e-4)
    nn = proj.nearest(ref[5] * 2.0, k=2)
    assert set(nn) == {"en", "fr"} and nn["fr"][0]["text"] == "s5"
    assert nn["fr"][0]["cosine"] == pytest.approx(1.0) and len(nn["en"]) == 2
    fig = proj.figure(extra=ref[:1], extra_labels=["me"])
    assert fig.data[-1].name == "you" and list(fig.data[-1].text) == ["me"]


@pytest.mark.slow
def test_projector_umap_transform():
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(40, 8))
    proj = probe.Projector("umap", n_neighbors=5).fit(ref, ["en"] * 20 + ["fr"] * 20,
                                                       [str(i) for i in range(40)])
    assert proj.method == "umap" and proj.coords.shape == (40, 2)
    assert proj.transform(ref[:3]).shape == (3, 2)


def test_probe_checkpoint_writes_json_and_figures(tmp_path):
    es = ev.synthetic_eval_set(0, n_units=N_UNITS, sentence_frames=6, aligned=12)
    res = probe.probe_checkpoint(tiny_llama(N_UNITS + 3), es, out=tmp_path, n_units=N_UNITS,
                                 progress=False)
    assert len(res["layers"]) == 3 and res["map_layer"] == res["best_layer"]
    saved = json.loads((tmp_path / "probe.json").read_text())
    assert saved["layers"][0]["layer"] == 0
    assert (tmp_path / "alignment.html").exists()
    assert (tmp_path / f"map_layer{res['map_layer']}_pca.html").exists()
    emb = probe.embed_units(tiny_llama(N_UNITS + 3), [1, 2, 3], bos=N_UNITS, layer=2)
    assert emb.shape == (32,)


def test_plot_helpers_shapes(tmp_path):
    acc = plots.accuracy_figure({"a": {"story:en-en": {"acc": 0.6, "ci": [0.5, 0.7]}},
                                 "b": {"story:en-en": {"acc": 0.4, "ci": [0.3, 0.5]}}})
    assert [t.name for t in acc.data] == ["a", "b"]
    assert acc.data[0].error_y.array[0] == pytest.approx(10.0)
    (tmp_path / "m.jsonl").write_text('{"step": 1, "loss": 3.0, "tokens": 10}\n'
                                      '{"step": 1, "heldout_loss": 3.1}\n'
                                      '{"step": 2, "loss": 2.5, "tokens": 20}\n')
    loss = plots.loss_figure({"stage1": tmp_path / "m.jsonl"})
    assert list(loss.data[0].x) == [10, 20] and list(loss.data[0].y) == [3.0, 2.5]
    units = plots.units_figure([1, 2, 3, 4], langs=["en", "en", "fr", "fr"])
    assert [t.name for t in units.data] == ["en", "fr"] and units.data[1].x[0] == pytest.approx(0.16)
    spec = plots.spectrogram_figure(np.zeros(24000, np.float32) + 0.1)
    assert spec.data[0].z.shape[0] == 513
    path = plots.save_html(units, tmp_path / "u.html", offline=True)
    assert path.exists() and (tmp_path / "plotly.min.js").exists()


def test_gap_ci_over_pairs_excludes_zero_only_when_translations_are_closer():
    rng = np.random.default_rng(6)
    en = rng.normal(size=(120, 32))
    close = probe.alignment(en, en + 1.5 * rng.normal(size=en.shape), keep_pairs=True)
    assert close["gap_ci"][0] > 0 and close["gap_ci"][0] <= close["gap"] <= close["gap_ci"][1]
    # the per-pair gaps average exactly to the gap; hits to the retrieval accuracies
    assert np.mean(close["pair_gaps"]) == pytest.approx(close["gap"])
    assert np.mean(close["hits_fr_en"]) == pytest.approx(close["retrieval_fr_en"])
    lo, hi = close["retrieval_en_fr_ci"]
    assert lo <= close["retrieval_en_fr"] <= hi
    unrelated = probe.alignment(en, rng.normal(size=en.shape))
    assert unrelated["gap_ci"][0] < 0 < unrelated["gap_ci"][1]
    assert "pair_gaps" not in unrelated


def test_accuracy_figure_draws_the_controls_on_each_arms_bars():
    def task(acc, none, mis, gain):
        return {"acc": acc, "ci": [acc - 0.1, acc + 0.1], "acc_no_ctx": none,
                "acc_mismatched": mis, "gain": gain, "ci_gain": [gain - 0.05, gain + 0.05]}

    res = {"mixed": {"story:en-en": task(0.6, 0.5, 0.55, 0.05), "lexical:en": {"acc": 0.7, "ci": [0.6, 0.8]}},
           "interleave": {"story:en-en": task(0.8, 0.52, 0.5, 0.3), "lexical:en": {"acc": 0.6, "ci": [0.5, 0.7]}}}
    fig = plots.accuracy_figure(res)
    names = [t.name for t in fig.data]
    assert names == ["mixed", "mixed: no context", "mixed: mismatched context", "interleave",
                     "interleave: no context", "interleave: mismatched context"]
    mis = fig.data[5]
    assert mis.offsetgroup == fig.data[3].offsetgroup == "interleave"  # drawn on its own bar
    assert mis.y[0] == pytest.approx(50.0) and np.isnan(mis.y[1])  # minimal pairs: no control
    assert len(plots.accuracy_figure(res, controls=False).data) == 2
    gain = plots.gain_figure(res)
    assert list(gain.data[1].x) == ["story:en-en"] and gain.data[1].y[0] == pytest.approx(30.0)
    assert gain.data[1].error_y.arrayminus[0] == pytest.approx(5.0)
    diff = plots.difference_figure({"interleave - mixed": {"story:en-en": {"diff": 0.2, "ci": [0.1, 0.3]}}})
    assert diff.data[0].y[0] == pytest.approx(20.0) and diff.data[0].error_y.array[0] == pytest.approx(10.0)
