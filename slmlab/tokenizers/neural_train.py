"""Train the neural tokenizer: `slmlab tokenizer train --kind neural` (GPU or, tiny, CPU).

1. Data (`neural_data`, all CPU cores): world sentences by random training-family voices, each
   in three aligned copies (clean + two speaker perturbations), with 10 ms espeak-ng phones.
2. Encoders, one per objective in `objectives` (each for `seconds` of training):
   - `phones`: predict the 8 phones of each unit frame from z, clean audio only;
   - `phones-perturb`: the same on a random copy (clean / perturbed), so z must ignore voice;
   - `spin`: no labels: predict the Sinkhorn-balanced prototype of one perturbed copy from the
     other (swapped prediction, as in Spin / SwAV);
   - `phones-perturb-spin`: both losses.
3. Spherical k-means of z (clean and perturbed frames) -> `units` centroids per encoder; every
   encoder is scored on held-out sentences spoken by held-out voice families (cross-voice unit
   edit distance, PNMI); the one with the widest gap between different-sentence and
   same-sentence distance is kept.
4. Decoder: units of the canonical voice -> its log-mel (L1), for the kept encoder.
Writes the tokenizer to `out/` and every encoder's figures to `out/train_report.json`.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from slmlab import config as C
from slmlab.speech.phones import pnmi, shuffled, unit_edit_distance
from slmlab.tokenizers import neural_data as D
from slmlab.tokenizers.neural import (SUB, NeuralTokenizer, UnitDecoder, UnitEncoder, noise_gate,
                                     normalised_logmel)
from slmlab.tokenizers.units import mel_filterbank

OBJECTIVES = ("phones", "phones-perturb", "spin", "phones-perturb-spin")


@dataclass
class NeuralTrainConfig:
    out: str  # directory for the kept tokenizer
    utterances: int = 4000  # training sentences (x3 copies)
    canonical: int = 1200  # canonical-voice sentences for the decoder
    eval_sentences: int = 60  # held-out sentences for choosing the encoder
    objectives: tuple[str, ...] = OBJECTIVES  # encoders to train and compare
    seconds: float = 40.0  # training time per encoder
    decoder_seconds: float = 40.0  # training time for the decoder
    units: int = 2048  # clusters (Mimi's codebook size)
    width: int = 192  # encoder / decoder channels (192: CPU encoding ~2x faster than 256)
    dim: int = 64  # bottleneck (clustered) dimension
    batch: int = 64  # crops per step
    crop: int = 256  # crop length in 10 ms frames (multiple of 8)
    lr: float = 2e-3  # peak learning rate (AdamW; warm-up, then cosine over the time budget)
    kmeans_frames: int = 300_000  # unit frames clustered (clean + perturbed, from the start)
    workers: int = 0  # data processes (0: all cores)
    device: str = "auto"  # 'auto' | 'cpu' | 'cuda'
    seed: int = 0
    init: str = ""  # a saved neural tokenizer to fine-tune (encoder and decoder), or ''
    extra: dict = field(default_factory=dict)  # free-form facts for the card

    def __post_init__(self):
        for k in ("utterances", "canonical", "eval_sentences", "units", "width", "dim", "batch",
                  "crop", "kmeans_frames"):
            C.check_positive(k, getattr(self, k))
        C.check_positive("seconds", self.seconds)
        C.check_positive("decoder_seconds", self.decoder_seconds)
        if self.crop % SUB:
            raise C.ConfigError(f"crop must be a multiple of {SUB}; got {self.crop}")
        bad = [o for o in self.objectives if o not in OBJECTIVES]
        if bad or not self.objectives:
            raise C.ConfigError(f"objectives must be among {', '.join(OBJECTIVES)}; got {bad}")
        C.check_choice("device", self.device, ("auto", "cpu", "cuda"))


def _device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- data ------------------------------------------------------------------------------------
class Stream:
    """All training utterances end to end: views [3, N, 80] (clean, p1, p2), phones [N]."""

    def __init__(self, items: list[dict], phone_ids: dict[str, int]):
        self.views = torch.stack([torch.from_numpy(np.concatenate([it[k] for it in items]))
                                  for k in ("clean", "p1", "p2")])
        self.phones = torch.tensor([phone_ids[p] for it in items for p in it["phones"]])
        self.n = self.views.shape[1]

    def to(self, dev):
        self.views, self.phones = self.views.to(dev), self.phones.to(dev)
        return self

    def batch(self, b: int, crop: int, g: torch.Generator):
        """Random crops starting on unit-frame boundaries -> views [3, b, crop, 80] float,
        phones [b, crop]."""
        starts = torch.randint(0, (self.n - crop) // SUB, (b,), generator=g) * SUB
        idx = (starts[:, None] + torch.arange(crop)[None]).to(self.views.device)
        return self.views[:, idx].float(), self.phones[idx]


def sinkhorn(scores: torch.Tensor, eps: float = 0.05, iters: int = 3) -> torch.Tensor:
    """Balanced soft assignment of N rows to K prototypes (SwAV): scores [N, K] -> Q [N, K]."""
    q = torch.exp((scores - scores.max()) / eps).T  # [K, N]
    q /= q.sum()
    k, n = q.shape
    for _ in range(iters):
        q /= q.sum(1, keepdim=True) * k
        q /= q.sum(0, keepdim=True) * n
    return (q * n).T


class Objective(nn.Module):
    """Heads and losses around the encoder for one training objective."""

    def __init__(self, name: str, dim: int, n_phones: int, n_protos: int = 256):
        super().__init__()
        self.name = name
        self.phone_head = nn.Linear(dim, SUB * n_phones)
        self.protos = nn.Parameter(torch.randn(n_protos, dim))
        self.n_phones = n_phones

    def phone_loss(self, z: torch.Tensor, phones: torch.Tensor) -> torch.Tensor:
        b, f, _ = z.shape  # phones [B, 8F]: the 8 phones of every unit frame
        logits = self.phone_head(z).view(b, f * SUB, self.n_phones)
        return nn.functional.cross_entropy(logits.flatten(0, 1).float(), phones.flatten(),
                                           label_smoothing=0.1)

    def swap_loss(self, za: torch.Tensor, zb: torch.Tensor, tau: float = 0.1) -> torch.Tensor:
        p = nn.functional.normalize(self.protos, dim=-1)
        sa, sb = za.flatten(0, 1).float() @ p.T, zb.flatten(0, 1).float() @ p.T  # [N, K]
        with torch.no_grad():
            qa, qb = sinkhorn(sa), sinkhorn(sb)
        la, lb = torch.log_softmax(sa / tau, -1), torch.log_softmax(sb / tau, -1)
        return -0.5 * ((qb * la).sum(-1).mean() + (qa * lb).sum(-1).mean())

    def forward(self, enc: UnitEncoder, views: torch.Tensor, phones: torch.Tensor):
        b = views.shape[1]
        loss = torch.zeros((), device=views.device)
        if self.name == "phones":
            loss = loss + self.phone_loss(enc(views[0]), phones)
        elif self.name.startswith("phones-perturb"):
            pick = torch.randint(0, 3, (b,), device=views.device)  # a random copy per crop
            x = views[pick, torch.arange(b, device=views.device)]
            loss = loss + self.phone_loss(enc(x), phones)
        if self.name.endswith("spin"):
            loss = loss + self.swap_loss(enc(views[1]), enc(views[2]))
        return loss


def train_encoder(cfg: NeuralTrainConfig, stream: Stream, n_phones: int, objective: str,
                  dev: torch.device, init: UnitEncoder | None = None) -> UnitEncoder:
    torch.manual_seed(cfg.seed)
    enc = (copy.deepcopy(init) if init is not None else UnitEncoder(cfg.width, cfg.dim)).to(dev)
    enc.train()
    obj = Objective(objective, enc.dim, n_phones).to(dev)
    params = list(enc.parameters()) + list(obj.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(cfg.seed)
    t0, step, ema = time.time(), 0, None
    while time.time() - t0 < cfg.seconds:
        frac = (time.time() - t0) / cfg.seconds  # cosine decay over the time budget
        for grp in opt.param_groups:
            grp["lr"] = cfg.lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + np.cos(np.pi * frac))
        views, phones = stream.batch(cfg.batch, cfg.crop, g)
        with torch.autocast(dev.type, torch.bfloat16, enabled=dev.type == "cuda"):
            loss = obj(enc, views, phones)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 25 == 0:  # a host sync now and then, not every step
            ema = loss.item() if ema is None else 0.8 * ema + 0.2 * loss.item()
        if step % 1000 == 0:
            log(f"{objective}: step {step} loss {ema:.3f}")
    log(f"{objective}: {step} steps in {time.time() - t0:.0f} s, loss {loss.item():.3f}")
    return enc.eval()


# -- clustering, scoring, decoder -------------------------------------------------------------
@torch.no_grad()
def embed_stream(enc: UnitEncoder, lm: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Embeddings of a long log-mel stream [N, 80] (N multiple of 8) in chunks -> [N/8, dim]."""
    out = [enc(lm[i:i + chunk][None].float())[0] for i in range(0, lm.shape[0], chunk)]
    return torch.cat(out)


def spherical_kmeans(x: torch.Tensor, k: int, iters: int = 20, seed: int = 0) -> torch.Tensor:
    """k-means with cosine similarity on unit rows x [N, D] -> unit centroids [k, D]; empty
    clusters are re-seeded on random points. Works on any device."""
    if x.shape[0] < k:
        raise ValueError(f"k-means needs at least {k} frames; got {x.shape[0]}: train on more audio")
    g = torch.Generator().manual_seed(seed)
    c = x[torch.randperm(x.shape[0], generator=g)[:k].to(x.device)].clone()
    for _ in range(iters):
        assign = torch.cat([(xb @ c.T).argmax(1) for xb in x.split(65536)])
        sums = torch.zeros_like(c).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k)
        empty = counts == 0
        c = nn.functional.normalize(sums, dim=-1)
        if empty.any():
            c[empty] = x[torch.randint(0, x.shape[0], (int(empty.sum()),), generator=g).to(x.device)]
    return c


def cluster(cfg: NeuralTrainConfig, enc: UnitEncoder, stream: Stream, k: int) -> torch.Tensor:
    """Centroids [k, dim] from the embeddings of clean and perturbed training frames."""
    per_view = min(stream.n, cfg.kmeans_frames * SUB // 3) // SUB * SUB
    z = torch.cat([embed_stream(enc, stream.views[v, :per_view]) for v in range(3)])
    return spherical_kmeans(z.float(), k, seed=cfg.seed)


def score(enc: UnitEncoder, cent: torch.Tensor, utts: list, dev: torch.device) -> dict:
    """Cross-voice edit distance (same sentence: training vs held-out family; different
    sentences: the floor) and PNMI on held-out voices (with its shuffled-phone chance level),
    for choosing between encoders."""
    units = [encode_one(enc, cent, u.wav, dev) for u in utts]
    by: dict = {}
    for u, un in zip(utts, units):
        by.setdefault((u.sentence, u.split), []).append(un)
    same, floor = [], []
    keys = sorted({s for s, _ in by})
    for i, s in enumerate(keys):
        other = by.get((keys[(i + 1) % len(keys)], "heldout"), [])
        for a in by.get((s, "train"), []):
            same += [unit_edit_distance(a, b) for b in by.get((s, "heldout"), [])]
            floor += [unit_edit_distance(a, b) for b in other[:1]]
    fr = [(int(x), p) for u, un in zip(utts, units) if u.split == "heldout" and u.phones
          for x, p in zip(un, u.phones)]
    xs, ps = [a for a, _ in fr], [b for _, b in fr]
    return {"edit_same": float(np.mean(same)), "edit_floor": float(np.mean(floor)),
            "pnmi_heldout": pnmi(xs, ps), "pnmi_chance": pnmi(xs, shuffled(ps))}


@torch.no_grad()
def encode_one(enc: UnitEncoder, cent: torch.Tensor, wav: np.ndarray,
               dev: torch.device) -> np.ndarray:
    """Units [F] of one waveform with encoder `enc` and centroids `cent` on `dev`."""
    x = noise_gate(torch.from_numpy(np.asarray(wav, np.float32))[None])
    lm = normalised_logmel(x, mel_filterbank())
    z = enc(lm.to(dev))
    return (z.float() @ cent.to(dev).T.float()).argmax(-1)[0].cpu().numpy()


def train_decoder(cfg: NeuralTrainConfig, enc: UnitEncoder, cent: torch.Tensor, canon: list,
                  dev: torch.device, init: NeuralTokenizer | None = None) -> UnitDecoder:
    """Canonical-voice decoder: units of the canonical voice's own audio -> its raw log-mel."""
    norm = torch.from_numpy(np.concatenate([c["norm"] for c in canon])).to(dev)
    raw = torch.from_numpy(np.concatenate([c["raw"] for c in canon])).to(dev).float()
    units = torch.cat([(z @ cent.T).argmax(-1) for z in embed_stream(enc, norm).split(65536)])
    dec = UnitDecoder(cent.shape[0]).to(dev)
    if init is not None and init.decoder is not None:  # fine-tuning: start from its decoder,
        dec = copy.deepcopy(init.decoder).to(dev)  # each new unit takes the embedding of the
        old = init.centroids.to(dev)  # old unit nearest to it (new ids are a re-clustering)
        with torch.no_grad():
            dec.emb.weight.copy_(dec.emb.weight[(cent @ old.T).argmax(1)])
    opt = torch.optim.AdamW(dec.parameters(), lr=cfg.lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(cfg.seed)
    fc = cfg.crop // SUB
    t0, step = time.time(), 0
    while time.time() - t0 < cfg.decoder_seconds:
        frac = (time.time() - t0) / cfg.decoder_seconds
        for grp in opt.param_groups:
            grp["lr"] = cfg.lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + np.cos(np.pi * frac))
        s = torch.randint(0, units.shape[0] - fc, (cfg.batch,), generator=g).to(dev)
        u = units[s[:, None] + torch.arange(fc, device=dev)[None]]
        target = raw[(s[:, None] * SUB + torch.arange(fc * SUB, device=dev)[None])]
        with torch.autocast(dev.type, torch.bfloat16, enabled=dev.type == "cuda"):
            loss = (dec(u).float() - target).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
    log(f"decoder: {step} steps in {time.time() - t0:.0f} s, L1 {loss.item():.3f}")
    return dec.eval()


# -- the whole recipe -----------------------------------------------------------------------
def make_data(cfg: NeuralTrainConfig):
    """(training items, canonical items, eval utterances), all made on the CPU cores."""
    t0 = time.time()
    base = cfg.seed * 1_000_003
    train = [(base + i, lang, text) for i, (lang, text)
             in enumerate(D.sentences(cfg.utterances, "train", cfg.seed))]
    canon = [(0, lang, text) for lang, text in D.sentences(cfg.canonical, "train", cfg.seed + 1)]
    ev = []
    for i, (lang, text) in enumerate(D.sentences(cfg.eval_sentences, "heldout", cfg.seed)):
        ev += [(base + 7919 * i + j, i, lang, text, split)
               for j, split in enumerate(("train", "train", "heldout", "heldout"))]
    items = D.run_parallel(D.training_item, train, cfg.workers)
    log(f"data: {len(items)} training utterances in {time.time() - t0:.0f} s")
    canon_items = D.run_parallel(D.canonical_item, canon, cfg.workers)
    utts = D.run_parallel(D.eval_item, ev, cfg.workers)
    log(f"data: {len(canon_items)} canonical, {len(utts)} eval utterances, "
        f"{time.time() - t0:.0f} s in all")
    return items, canon_items, utts


def train_neural(cfg: NeuralTrainConfig) -> tuple[NeuralTokenizer, dict]:
    """The recipe in the module docstring -> (kept tokenizer, report). Saves both to cfg.out."""
    from pathlib import Path

    t0 = time.time()
    items, canon, utts = make_data(cfg)  # before CUDA starts: the workers fork
    init = NeuralTokenizer.load(cfg.init) if cfg.init else None
    phones = sorted({p for it in items for p in it["phones"]})
    stream = Stream(items, {p: i for i, p in enumerate(phones)})
    hours = stream.n * 0.01 / 3600
    dev = _device(cfg.device)
    torch.backends.cudnn.benchmark = True
    stream.to(dev)
    report = {"config": {k: v for k, v in asdict(cfg).items() if k != "extra"},
              "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
              "data": {"utterances": len(items), "hours_per_copy": round(hours, 2),
                       "copies": 3, "phones": len(phones), "canonical": len(canon),
                       "eval_utterances": len(utts)}, "objectives": {}}
    best = None
    for obj in cfg.objectives:
        enc = train_encoder(cfg, stream, len(phones), obj, dev,
                            init.encoder if init is not None else None)
        cent = cluster(cfg, enc, stream, cfg.units)
        fig = score(enc, cent, utts, dev)
        log(f"{obj}: {json.dumps({k: round(v, 3) for k, v in fig.items()})}")
        report["objectives"][obj] = fig
        # keep the widest gap between different and same sentences: a collapsed encoder
        # (one unit everywhere) has a small same-sentence distance too, but no gap
        if best is None or fig["edit_floor"] - fig["edit_same"] > best[0]["edit_floor"] - best[0]["edit_same"]:
            best = (fig, obj, enc, cent)
    fig, obj, enc, cent = best
    for k in sorted({256, 512, 1024} - {cfg.units}):  # the unit count, measured
        if k < cfg.units:
            report.setdefault("units_sweep", {})[str(k)] = score(enc, cluster(cfg, enc, stream, k),
                                                                 utts, dev)
    dec = train_decoder(cfg, enc, cent, canon, dev, init)
    report.update(kept=obj, seconds=round(time.time() - t0, 1))
    info = {"objective": obj, "phone_labels_used": "phones" in obj, "data": report["data"],
            "device": report["device"], "figures": fig, **cfg.extra,
            "fine_tuned_from": init.info if init is not None else None}
    tok = NeuralTokenizer(enc.float().cpu(), cent.float().cpu(), dec.float().cpu(), info)
    tok.save(cfg.out)
    Path(cfg.out, "train_report.json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"kept {obj}: {tok} -> {cfg.out} ({report['seconds']} s)")
    return tok, report
