"""Bilingual lexicon of the embedded world: nouns, verbs, adjectives, names, per topic.

Every entry has one language-neutral key and one spec string per language; each language's
grammar module parses its own specs, so a third language adds a spec per entry and a realiser,
without touching the planner.

Spec formats
- noun  en: "sg" or "sg/pl";  fr: "sg:g" or "sg:g:pl", g in m|f, trailing ":h" = h aspiré.
- place fr: noun spec + " @prep" (locative preposition: à | dans | sur).
- verb  en: "base:past";      fr: "infinitive:participle:aux" (aux a = avoir, e = être).
- adj   en: "word";           fr: "m[,f[,mpl,fpl[,m before a vowel]]]" + " <" (before noun) or
  nothing (after the noun, the default French position).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOPICS = ("beach", "forest", "kitchen", "school", "farm", "snow", "space", "birthday", "garden",
          "sea", "city", "rain")


@dataclass(frozen=True)
class Entry:
    """One lemma: `key` (English lemma), part of speech and a spec per language."""

    key: str
    pos: str  # noun | verb | adj
    spec: dict  # lang -> spec string


@dataclass
class Topic:
    """The vocabulary of one topic, as lists of lexicon keys (see the module docstring)."""

    name: str
    places: list = field(default_factory=list)  # setting places (noun keys)
    objects: list = field(default_factory=list)  # objects a child finds, loses, gets back
    spots: list = field(default_factory=list)  # (noun key, number) used after near/behind/...
    animals: list = field(default_factory=list)  # animals seen on the way
    agents: list = field(default_factory=list)  # (noun key, adj key | None): take objects away
    activities: list = field(default_factory=list)  # (verb, prep | None, det, noun key)
    weather: list = field(default_factory=list)  # background sentences {lang: text} (imparfait)
    creations: list = field(default_factory=list)  # (verb, noun key): things a child makes


NOUNS: dict[str, Entry] = {}
VERBS: dict[str, Entry] = {}
ADJS: dict[str, Entry] = {}


def _nouns(block: str) -> list[str]:
    """Parse lines "en = fr" into NOUNS; returns the keys in order."""
    keys = []
    for line in block.strip().splitlines():
        en, fr = (s.strip() for s in line.split("="))
        key = en.split("/")[0]
        NOUNS.setdefault(key, Entry(key, "noun", {"en": en, "fr": fr}))
        keys.append(key)
    return keys


def _verbs(block: str) -> None:
    for line in block.strip().splitlines():
        en, fr = (s.strip() for s in line.split("="))
        VERBS[en.split(":")[0]] = Entry(en.split(":")[0], "verb", {"en": en, "fr": fr})


def _adjs(block: str) -> None:
    for line in block.strip().splitlines():
        en, fr = (s.strip() for s in line.split("="))
        ADJS[en] = Entry(en, "adj", {"en": en, "fr": fr})


# --- adjectives ----------------------------------------------------------------------------
COLORS = ("red", "blue", "green", "yellow", "white", "black", "pink", "orange", "purple",
          "grey", "brown", "golden")
SIZES = ("little", "big", "beautiful", "old", "new", "pretty", "huge", "funny", "shiny",
         "strange")
_adjs("""
red = rouge
blue = bleu
green = vert
yellow = jaune
white = blanc,blanche
black = noir
pink = rose
orange = orange,orange,orange,orange
purple = violet,violette
grey = gris,grise,gris,grises
brown = marron,marron,marron,marron
golden = doré
little = petit <
big = grand <
beautiful = beau,belle,beaux,belles,bel <
old = vieux,vieille,vieux,vieilles,vieil <
new = nouveau,nouvelle,nouveaux,nouvelles,nouvel <
pretty = joli <
huge = énorme
funny = rigolo,rigolote,rigolos,rigolotes
shiny = brillant
strange = bizarre
strong = fort
heavy = lourd
happy = content
glad = ravi
relieved = soulagé
proud = fier,fière
cheerful = joyeux,joyeuse,joyeux,joyeuses
calm = calme
sad = triste
worried = inquiet,inquiète
upset = contrarié
angry = fâché
disappointed = déçu
scared = effrayé
tired = fatigué
hungry = affamé
cold = froid
warm = chaud
quiet = silencieux,silencieuse,silencieux,silencieuses
dark = sombre
bright = lumineux,lumineuse,lumineux,lumineuses
wet = mouillé
soft = doux,douce,doux,douces
clean = propre
tall = haut <
young = jeune <
kind = gentil,gentille
brave = courageux,courageuse,courageux,courageuses
clever = malin,maligne
curious = curieux,curieuse,curieux,curieuses
fast = rapide
slow = lent
ready = prêt
empty = vide
full = plein
perfect = parfait
delicious = délicieux,délicieuse,délicieux,délicieuses
wonderful = merveilleux,merveilleuse,merveilleux,merveilleuses
tiny = minuscule
dirty = sale
surprised = surpris,surprise,surpris,surprises
excited = impatient
thirsty = assoiffé
noisy = bruyant
long = long,longue,longs,longues <
short = court
sweet = sucré
""")
POSITIVE = ("happy", "glad", "relieved", "proud", "cheerful", "calm")
NEGATIVE = ("sad", "worried", "upset", "angry", "disappointed", "scared")
LOSS_FEELINGS = NEGATIVE[:5]  # after losing or breaking something (not scared)

# --- verbs ---------------------------------------------------------------------------------
_verbs("""
go:went = aller:allé:e
come:came = venir:venu:e
arrive:arrived = arriver:arrivé:e
fall:fell = tomber:tombé:e
leave:left = partir:parti:e
find:found = trouver:trouvé:a
lose:lost = perdre:perdu:a
take:took = prendre:pris:a
carry:carried = emporter:emporté:a
give:gave = donner:donné:a
bring:brought = rapporter:rapporté:a
see:saw = voir:vu:a
thank:thanked = remercier:remercié:a
hug:hugged = embrasser:embrassé:a
help:helped = aider:aidé:a
look:looked = chercher:cherché:a
play:played = jouer:joué:a
build:built = construire:construit:a
collect:collected = ramasser:ramassé:a
swim:swam = nager:nagé:a
dig:dug = creuser:creusé:a
jump:jumped = sauter:sauté:a
climb:climbed = grimper:grimpé:a
pick:picked = cueillir:cueilli:a
walk:walked = marcher:marché:a
bake:baked = faire:fait:a
make:made = faire:fait:a
cut:cut = couper:coupé:a
wash:washed = laver:lavé:a
read:read = lire:lu:a
write:wrote = écrire:écrit:a
draw:drew = dessiner:dessiné:a
paint:painted = peindre:peint:a
sing:sang = chanter:chanté:a
feed:fed = nourrir:nourri:a
milk:milked = traire:trait:a
ride:rode = monter:monté:e
throw:threw = lancer:lancé:a
slide:slid = glisser:glissé:a
ski:skied = skier:skié:a
fly:flew = piloter:piloté:a
count:counted = compter:compté:a
watch:watched = regarder:regardé:a
open:opened = ouvrir:ouvert:a
decorate:decorated = décorer:décoré:a
blow:blew = souffler:soufflé:a
plant:planted = planter:planté:a
water:watered = arroser:arrosé:a
sail:sailed = naviguer:navigué:a
catch:caught = attraper:attrapé:a
visit:visited = visiter:visité:a
cross:crossed = traverser:traversé:a
buy:bought = acheter:acheté:a
splash:splashed = patauger:pataugé:a
hold:held = tenir:tenu:a
keep:kept = garder:gardé:a
cry:cried = pleurer:pleuré:a
start:started = commencer:commencé:a
laugh:laughed = rire:ri:a
run:ran = courir:couru:a
sleep:slept = dormir:dormi:a
eat:ate = manger:mangé:a
drink:drank = boire:bu:a
wear:wore = porter:porté:a
hide:hid = cacher:caché:a
explore:explored = explorer:exploré:a
listen:listened = écouter:écouté:a
push:pushed = pousser:poussé:a
pull:pulled = tirer:tiré:a
fix:fixed = réparer:réparé:a
win:won = gagner:gagné:a
wait:waited = attendre:attendu:a
try:tried = essayer:essayé:a
break:broke = casser:cassé:a
decide:decided = décider:décidé:a
notice:noticed = remarquer:remarqué:a
hear:heard = entendre:entendu:a
follow:followed = suivre:suivi:a
discover:discovered = découvrir:découvert:a
show:showed = montrer:montré:a
wrap:wrapped = emballer:emballé:a
choose:chose = choisir:choisi:a
share:shared = partager:partagé:a
clap:clapped = applaudir:applaudi:a
stroke:stroked = caresser:caressé:a
stay:stayed = rester:resté:e
tell:told = raconter:raconté:a
return:returned = revenir:revenu:e
disappear:disappeared = disparaître:disparu:a
call:called = appeler:appelé:a
work:worked = travailler:travaillé:a
knock:knocked = renverser:renversé:a
appear:appeared = apparaître:apparu:e
stop:stopped = arrêter:arrêté:a
spend:spent = passer:passé:a
plan:planned = prévoir:prévu:a
love:loved = adorer:adoré:a
""")

# --- people, pets, time --------------------------------------------------------------------
GIRLS = ("Emma", "Lily", "Sophie", "Julie", "Alice", "Clara", "Anna", "Lucie", "Nina", "Sarah",
         "Eva", "Rose", "Louise", "Manon", "Jade", "Mia", "Lola", "Laura", "Marie", "Zoe",
         "Chloe", "Olivia", "Ella", "Nora")
BOYS = ("Tom", "Leo", "Hugo", "Lucas", "Louis", "Paul", "Adam", "Noah", "Jules", "Arthur",
        "Victor", "Nathan", "Theo", "Sam", "Ben", "Oscar", "Felix", "Simon", "Martin", "Gabriel",
        "Ethan", "Liam", "Robin", "Max")
# relation key -> (gender, noun key); siblings and friends take the friend's gender
RELATIONS = {"friend": "friend", "brother": "brother", "sister": "sister", "cousin": "cousin"}
PETS = (("dog", "m", ("Rex", "Pipo", "Filou", "Biscuit")),
        ("dog", "f", ("Bella", "Praline", "Noisette")),
        ("cat", "m", ("Caramel", "Moka", "Pompon", "Tigrou")))
_nouns("""
friend = ami:m
girlfriend = amie:f
brother = frère:m
sister = sœur:f
cousin = cousin:m
girlcousin = cousine:f
dog = chien:m
female dog = chienne:f
cat = chat:m
mom = maman:f
dad = papa:m
morning = matin:m
afternoon = après-midi:m:après-midi
evening = soir:m
day = jour:m
week = semaine:f
home = maison:f
water = eau:f:eaux
grass = herbe:f
way = chemin:m
hand = main:f
rain = pluie:f
snow = neige:f
cloud = nuage:m
rainbow = arc-en-ciel:m:arcs-en-ciel
sky = ciel:m:ciels
sun = soleil:m
night = nuit:f
surprise = surprise:f
paper = papier:m
prize = prix:m:prix
race = course:f
contest = concours:m:concours
heart = cœur:m
room = chambre:f
trip = voyage:m
sandwich = sandwich:m
paw print = trace de patte:f:traces de pattes
collar = collier:m
leash = laisse:f
idea = idée:f
birthday = anniversaire:m
dark = noir:m
song = chanson:f
window = fenêtre:f
eye/eyes = œil:m:yeux
""")
TIMES = (("One morning", "Un matin"), ("One afternoon", "Un après-midi"),
         ("One day", "Un jour"), ("One evening", "Un soir"), ("Last Sunday", "Dimanche dernier"),
         ("One Saturday", "Un samedi"), ("On Wednesday", "Mercredi"),
         ("Early one morning", "Un matin, très tôt"))


# French feminine relation nouns: English has no lemma of its own for them ("friend")
FR_ONLY = {"girlfriend", "girlcousin", "female dog"}
