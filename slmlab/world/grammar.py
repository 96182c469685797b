"""Helpers every language's grammar module shares: finishing a sentence, the template of an
event, filling its {placeholders} through the realiser's `ph_<name>` methods, and reading an
event's roles and noun arguments from the plan."""

from __future__ import annotations

import re

from slmlab.world.planner import Person, Plan
from slmlab.world.templates import ENDINGS, TEMPLATES
from slmlab.world.topics import TOPIC_DATA


def finish(text: str) -> str:
    """Capitalise the first letter and end with a full stop (plain text for espeak-ng)."""
    text = " ".join(text.split())
    return text[0].upper() + text[1:] + ("" if text[-1] in ".!?" else ".")


# --- template arcs (slmlab.world.templates): shared lookup, roles and placeholder filling ---
_PH = re.compile(r"\{(\w+)(?::([\w+ ]+))?(?::([\w+]+))?\}")


def template_text(kind: str, args: dict, plan: Plan, lang: str) -> str | None:
    """The template of an event in `lang`, or None for the lost arc's hand-written sentences."""
    if kind == "ending":
        e = ENDINGS.get(args["tmpl"])
        return e[lang] if e else None
    variants = TEMPLATES.get((plan.arc, kind, args.get("type")))
    return variants[args.get("v", 0)][lang == "fr"] if variants else None


def fill(realiser, text: str, args: dict, plan: Plan) -> str:
    """Replace every {name:a:b} by `realiser.ph_name(a, b, args, plan)`."""
    return _PH.sub(lambda m: getattr(realiser, "ph_" + m.group(1))(m.group(2), m.group(3), args, plan),
                   text)


def role(name: str, args: dict, plan: Plan):
    """A Person by role (hero, helper, friend, pet, winner, loser), the event's own first."""
    v = args.get(name)
    if isinstance(v, Person):
        return v
    if name in plan.roles:
        return plan.roles[name]
    return getattr(plan, name)


def group(name: str, args: dict, plan: Plan) -> list:
    """The people a plural role names: they = hero + helper, all = hero + helper + pet."""
    people = [role("hero", args, plan), role("helper", args, plan)]
    return people + [role("pet", args, plan)] if name == "all" else people


def noun_arg(name: str, args: dict, plan: Plan) -> tuple[str, str, str | None]:
    """(noun key, number, adjective or None) of a noun argument of an event."""
    if name == "obj":
        return args.get("obj", plan.obj), args.get("num", plan.obj_num), plan.obj_adj
    v = args[name]
    if name == "place":
        key = TOPIC_DATA[plan.topic].places[v][0] if isinstance(v, int) else v
        return key, "sg", None
    if name == "agent":
        return v[0], "sg", v[1]
    if isinstance(v, tuple):
        return v[0], v[1], None
    return v, "sg", None


def built(plan: Plan, key: str) -> bool:
    """True when the children built `key` (a sandcastle, a tower), False when they made it
    (a necklace, a cake): a built thing falls down, a made one falls on the floor."""
    return dict((n, v) for v, n in TOPIC_DATA[plan.topic].creations).get(key) == "build"


def np_spec(det: str, adj_default: str | None) -> tuple[str, str | None]:
    """"a+" -> (a, the argument's adjective); "a+big" -> (a, big); "the" -> (the, None)."""
    if "+" not in det:
        return det, None
    det, adj = det.split("+")
    return det, (adj or adj_default) if adj not in ("agent",) else adj_default
