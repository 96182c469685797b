"""The one interface every language implements: plan events in, plain sentences out.

A realiser has `lang`, `sentence(kind, args, plan) -> str` (one per event kind: setting,
companion, weather, activity, see, find, problem, reaction, resolve, ending), `word_forms()`
(single-word forms of its lexicon, for lexical minimal pairs) and
`syntactic_pair(rng, plan) -> (phenomenon, good, bad)`. The arcs of `slmlab.world.arcs` are
written as templates (`slmlab.world.templates`) whose placeholders each realiser fills with
its `ph_<name>` methods. Adding a language = one grammar module with such a class + a spec
per lexicon entry + a template text per language + `register(...)`. The helpers the
grammar modules share (template lookup, placeholder filling, roles) are in
`slmlab.world.grammar`.
"""

from __future__ import annotations

from typing import Protocol

from slmlab.world.grammar_en import EnglishRealiser
from slmlab.world.grammar_fr import FrenchRealiser
from slmlab.world.planner import Plan


class Realiser(Protocol):
    lang: str

    def sentence(self, kind: str, args: dict, plan: Plan) -> str: ...

    def word_forms(self) -> set[str]: ...

    def syntactic_pair(self, rng, plan: Plan) -> tuple[str, str, str]: ...


_REGISTRY: dict[str, Realiser] = {}


def register(realiser: Realiser) -> None:
    _REGISTRY[realiser.lang] = realiser


def realisers() -> dict[str, Realiser]:
    """lang -> realiser, English and French registered on first use."""
    if not _REGISTRY:
        register(EnglishRealiser())
        register(FrenchRealiser())
    return _REGISTRY


def realise(plan: Plan, langs=None) -> dict[str, list[str]]:
    """Every event of `plan` as one sentence per language: {lang: [sentence, ...]}."""
    regs = realisers()
    langs = langs or tuple(regs)
    return {lang: [regs[lang].sentence(k, a, plan) for k, a in plan.events] for lang in langs}
