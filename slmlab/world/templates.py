"""Bilingual sentence templates of the story arcs other than "lost" (see `slmlab.world.arcs`).

`TEMPLATES[(arc, kind, type)]` is a list of variants `(en, fr)`; the plan event picks one by
index (`args["v"]`), so sentence i of both languages says the same thing. `type` is
`args.get("type")` (e.g. the weather that spoils a plan). `ENDINGS[name]` are the last
sentences (which fact each one states, for the counterbalanced cloze pairs: `slmlab.world.pairs`).

Placeholders (each realiser resolves them with its own grammar; see `fill` in grammar_en.py /
grammar_fr.py). Roles: hero, helper, friend, pet, they (= hero + helper).
- `{N:role}` name or "his mom" / "son papa";  `{he:role}` subject pronoun;  `{him:role}`
  object pronoun (fr: clitic le/la/les);  `{his:role}` English possessive;  `{lui:role}`
  stressed pronoun (fr lui/elle/eux/elles, en him/her/them);  `{dat:role}` indirect object
  (fr lui/leur, en him/her);  `{e:X}` French agreement suffix
  ('', e, s, es) of a role or a noun argument.
- `{np:ARG:DET}` noun phrase of an argument (obj, animal, thing, place, w, target, ...); DET
  a | the | some | the* | none; `a+` adds the object's adjective.  `{it:ARG}` en it/them, fr
  le/la/les;  `{pron:ARG}` en it/they, fr il/elle/ils/elles;  `{was:ARG}` en was/were, fr
  était/étaient.
- `{adj:KEY:TARGET}` an adjective (KEY an argument name or a lemma) agreeing with TARGET (a
  role, a noun argument, or m/f).
- `{spot}` / `{spot2}` "behind the tree";  `{to_place}` "to the park" / "au parc";
  `{act_inf}` / `{act_past}` the activity (infinitive / past with subject they);
  `{time}` "One morning";  `{myrel:pet}` "his dog" / "sa chienne";  `{noise:pet}`
  barking / aboyer;  `{broke:thing}` how a thing the children made was spoiled (built:
  fell down / s'est écroulé, made: fell on the floor / est tombé par terre).
"""

from __future__ import annotations

T = {}


def _add(arc: str, kind: str, typ, *variants: tuple[str, str]) -> None:
    T[(arc, kind, typ)] = list(variants)


# --- pet: a pet runs away and is found thanks to a clue ---------------------------------
_add("pet", "runaway", None,
     ("suddenly, {N:pet} ran after {np:animal:a} and disappeared",
      "soudain, {N:pet} a couru après {np:animal:a} et a disparu"),
     ("then {N:pet} saw {np:animal:a} and ran away after {it:animal}",
      "puis {N:pet} a vu {np:animal:a} et est parti{e:pet} en courant derrière {lui:animal}"),
     ("when {he:hero} looked up, {N:pet} was running after {np:animal:a}, far away",
      "quand {he:hero} a levé les yeux, {N:pet} courait après {np:animal:a}, très loin"))
_add("pet", "call", None,
     ("{N:hero} called {N:pet} again and again, but {he:pet} did not return",
      "{N:hero} a appelé {N:pet} encore et encore, mais {he:pet} n'est pas revenu{e:pet}"),
     ("{N:hero} waited for a long time, but {N:pet} did not return",
      "{N:hero} a attendu longtemps, mais {N:pet} n'est pas revenu{e:pet}"),
     ("{N:hero} looked for {N:pet} everywhere, but {he:pet} was nowhere to be found",
      "{N:hero} a cherché {N:pet} partout, mais {he:pet} restait introuvable"))
_add("pet", "clue", "prints",
     ("then {N:helper} noticed paw prints {spot}", "puis {N:helper} a remarqué des traces de pattes {spot}"),
     ("after a while, {N:helper} saw some paw prints {spot}",
      "au bout d'un moment, {N:helper} a vu des traces de pattes {spot}"))
_add("pet", "clue", "noise",
     ("then {N:helper} heard {noise:pet} {spot}", "puis {N:helper} a entendu {noise:pet} {spot}"),
     ("after a while, {N:helper} heard {noise:pet} somewhere {spot}",
      "au bout d'un moment, {N:helper} a entendu {noise:pet} quelque part {spot}"))
_add("pet", "clue", "collar",
     ("then {N:helper} found {N:pet}'s collar {spot}", "puis {N:helper} a trouvé le collier de {N:pet} {spot}"),
     ("after a while, {N:helper} noticed {N:pet}'s collar {spot}",
      "au bout d'un moment, {N:helper} a remarqué le collier de {N:pet} {spot}"))
_add("pet", "rescue", None,
     ("{he:they} followed the clue, and {he:they} found {N:pet} {spot}",
      "{he:they} ont suivi la piste, et {he:they} ont retrouvé {N:pet} {spot}"),
     ("{he:they} looked {spot}, and there was {N:pet}, tired and dirty",
      "{he:they} ont regardé {spot}, et {N:pet} était là, fatigué{e:pet} et sale"),
     ("{N:pet} was hiding {spot}, and {he:pet} was very hungry",
      "{N:pet} se cachait {spot}, et {he:pet} avait très faim"))

# --- weather: a change of weather spoils a plan, then saves it -----------------------------
_add("weather", "goal", None,
     ("{he:they} wanted to {act_inf}", "{he:they} voulaient {act_inf}"),
     ("{he:they} were ready to {act_inf}", "{he:they} étaient prêt{e:they} à {act_inf}"),
     ("{he:they} had planned to {act_inf} that day", "{he:they} avaient prévu de {act_inf} ce jour-là"))
_add("weather", "turn", "rain",
     ("but suddenly, big grey clouds came, and it started to rain",
      "mais soudain, de gros nuages gris sont arrivés, et il a commencé à pleuvoir"),
     ("but then the sky turned dark, and the rain started to fall",
      "mais ensuite, le ciel est devenu tout noir, et la pluie a commencé à tomber"))
_add("weather", "turn", "wind",
     ("but suddenly, a strong wind started to blow", "mais soudain, un vent très fort a commencé à souffler"),
     ("but then the wind started to blow so hard that {he:they} had to stop",
      "mais ensuite, le vent a commencé à souffler si fort qu'{he:they} ont dû s'arrêter"))
_add("weather", "shelter", None,
     ("{he:they} waited {spot} for a long time", "{he:they} ont attendu longtemps {spot}"),
     ("{he:they} stayed {spot} and told each other stories",
      "{he:they} sont resté{e:they} {spot} et se sont raconté des histoires"))
_add("weather", "save", "rain",
     ("when the rain stopped, a huge rainbow appeared above {np:place:the}",
      "quand la pluie s'est arrêtée, un énorme arc-en-ciel est apparu au-dessus de {np:place:the}"),
     ("after the rain, there were big puddles everywhere, and {he:they} splashed in them for a long time",
      "après la pluie, il y avait de grandes flaques partout, et {he:they} ont pataugé dedans longtemps"))
_add("weather", "save", "wind",
     ("but the wind was perfect for a kite, so {he:they} flew a kite high in the sky",
      "mais le vent était parfait pour un cerf-volant, alors {he:they} ont fait voler un cerf-volant très haut dans le ciel"),
     ("then the wind pushed the clouds away, and the sun returned",
      "puis le vent a poussé les nuages, et le soleil est revenu"))

# --- gift: a birthday surprise ---------------------------------------------------------
_add("gift", "occasion", None,
     ("{time}, it was {N:friend}'s birthday", "{time}, c'était l'anniversaire de {N:friend}"),
     ("{time}, {N:friend} was turning seven", "{time}, {N:friend} allait avoir sept ans"))
_add("gift", "idea", None,
     ("{N:hero} wanted to give {him:friend} a surprise", "{N:hero} voulait {dat:friend} faire une surprise"),
     ("{N:hero} had an idea for a present", "{N:hero} a eu une idée de cadeau"),
     ("{N:hero} had saved money all week for a present",
      "{N:hero} avait économisé toute la semaine pour un cadeau"))
# presents come from a shop (bought or chosen), never from where the story takes place
_add("gift", "errand", None,
     ("so {he:hero} went to the toy shop to look for a present",
      "alors {he:hero} est allé{e:hero} au magasin de jouets pour chercher un cadeau"),
     ("{he:hero} went to the market and looked for a present everywhere",
      "{he:hero} est allé{e:hero} au marché et a cherché un cadeau partout"))
_add("gift", "get", None,
     ("there, {he:hero} bought {np:obj:a+} and some {color} paper",
      "là, {he:hero} a acheté {np:obj:a+} et du papier {color}"),
     ("{he:hero} chose {np:obj:a+} and wrapped {it:obj} in {color} paper",
      "{he:hero} a choisi {np:obj:a+} et {it:obj} a emballé{e:obj} dans du papier {color}"))
_add("gift", "hide", None,
     ("{he:hero} hid {it:obj} {spot} so that {N:friend} could not see {it:obj}",
      "{he:hero} {it:obj} a caché{e:obj} {spot} pour que {N:friend} ne {it:obj} voie pas"),
     ("then {he:hero} kept {it:obj} {spot} until the party",
      "puis {he:hero} {it:obj} a gardé{e:obj} {spot} jusqu'à la fête"))
_add("gift", "arrive", None,
     ("then {N:friend} arrived, a little early", "puis {N:friend} est arrivé{e:friend}, un peu en avance"),
     ("later, {N:friend} came with {his:friend} mom",
      "plus tard, {N:friend} est venu{e:friend} avec sa maman"),
     ("when the present was ready, {N:friend} arrived",
      "quand le cadeau était prêt, {N:friend} est arrivé{e:friend}"))
_add("gift", "give", None,
     ("{N:hero} gave {N:friend} the present, and {he:friend} opened it at once",
      "{N:hero} a donné le cadeau à {N:friend}, et {he:friend} l'a ouvert tout de suite"),
     ("when {N:friend} opened the present, {he:friend} found {np:obj:the} inside",
      "quand {N:friend} a ouvert le cadeau, {he:friend} a trouvé {np:obj:the} dedans"),
     ("{N:friend} opened a big box full of paper and found {np:obj:the} inside",
      "{N:friend} a ouvert une grande boîte pleine de papier et a trouvé {np:obj:the} dedans"))

# --- contest: a race or a game with a winner ---------------------------------------------
_add("contest", "challenge", "race",
     ("{N:hero} and {N:friend} decided to race to {np:goal:the}",
      "{N:hero} et {N:friend} ont décidé de faire la course jusqu'à {np:goal:the}"),
     ("{N:hero} and {N:friend} wanted to see who could run the fastest",
      "{N:hero} et {N:friend} voulaient savoir qui courait le plus vite"),
     ("{N:hero} and {N:friend} decided to run a short race to {np:goal:the}",
      "{N:hero} et {N:friend} ont décidé de faire une course courte jusqu'à {np:goal:the}"))
_add("contest", "challenge", "throw",
     ("{N:hero} and {N:friend} wanted to see who could throw {np:obj:a} the farthest",
      "{N:hero} et {N:friend} voulaient savoir qui lancerait {np:obj:a} le plus loin"),
     ("{N:hero} and {N:friend} had a contest: who could throw {np:obj:a} the farthest",
      "{N:hero} et {N:friend} ont fait un concours pour lancer {np:obj:a} le plus loin"))
_add("contest", "challenge", "jump",
     ("{N:hero} and {N:friend} wanted to see who could jump the highest",
      "{N:hero} et {N:friend} voulaient savoir qui sauterait le plus haut"),
     ("{N:hero} and {N:friend} had a jumping contest", "{N:hero} et {N:friend} ont fait un concours de saut"))
_add("contest", "lead", None,
     ("at first, {N:loser} was faster", "au début, {N:loser} était plus rapide"),
     ("{N:loser} started very well and was sure to win",
      "{N:loser} a très bien commencé et était sûr{e:loser} de gagner"),
     ("at first, {N:winner} was too slow", "au début, {N:winner} était trop lent{e:winner}"))
_add("contest", "slip", None,
     ("but then {N:loser} slipped and fell {spot}", "mais ensuite, {N:loser} a glissé et est tombé{e:loser} {spot}"),
     ("but then {N:loser} got tired and had to stop {spot}",
      "mais ensuite, {N:loser} était fatigué{e:loser} et a dû s'arrêter {spot}"))
_add("contest", "win", None,
     ("so {N:winner} won the {game}", "alors {N:winner} a gagné {game}"),
     ("in the end, {N:winner} won the {game}, and everyone clapped",
      "à la fin, {N:winner} a gagné {game}, et tout le monde a applaudi"))

# --- fear: a fear overcome with a friend -------------------------------------------------
_add("fear", "fear", "animal",
     ("{N:hero} saw {np:target:a+big}, and {he:hero} was scared of {him:target}",
      "{N:hero} a vu {np:target:a+big}, et {he:hero} en avait peur"),
     ("there was {np:target:a+big} {spot}, and {N:hero} was too scared to walk past {him:target}",
      "il y avait {np:target:a+big} {spot}, et {N:hero} avait trop peur pour passer devant"))
_add("fear", "fear", "dark",
     ("{N:hero} wanted to explore a dark corner {spot}, but {he:hero} was scared of the dark",
      "{N:hero} voulait explorer un coin sombre {spot}, mais {he:hero} avait peur du noir"),
     ("it was very dark {spot}, and {N:hero} did not want to go there alone",
      "il faisait très noir {spot}, et {N:hero} ne voulait pas y aller tout{e:hero} seul{e:hero}"))
_add("fear", "shake", None,
     ("{his:hero} hands were cold, and {his:hero} heart was beating fast",
      "ses mains étaient froides, et son cœur battait vite"),
     ("{he:hero} held {his:hero} breath and closed {his:hero} eyes",
      "{he:hero} a retenu son souffle et a fermé les yeux"))
_add("fear", "help", None,
     ("{N:helper} held {his:hero} hand and said that there was nothing to fear",
      "{N:helper} {dat:hero} a tenu la main et {dat:hero} a dit qu'il n'y avait rien à craindre"),
     ("{N:helper} stayed next to {him:hero} and told {him:hero} a funny story",
      "{N:helper} est resté{e:helper} à côté de {lui:hero} et {dat:hero} a raconté une histoire drôle"))
_add("fear", "overcome", "animal",
     ("so {N:hero} walked up to {np:target:the} slowly and watched {him:target} for a long time",
      "alors {N:hero} s'est approché{e:hero} doucement de {np:target:the} et {it:target} a regardé{e:target} longtemps"),
     ("step by step, {N:hero} went closer, and {np:target:the} did not move at all",
      "pas à pas, {N:hero} s'est approché{e:hero}, et {np:target:the} n'a pas bougé du tout"))
_add("fear", "overcome", "dark",
     ("together, {he:they} walked slowly in the dark, and everything was quiet and soft",
      "ensemble, {he:they} ont marché doucement dans le noir, et tout était silencieux et doux"),
     ("{N:helper} found a flashlight, and everything was bright again",
      "{N:helper} a trouvé une lampe de poche, et tout était de nouveau lumineux"))

# --- make: making something goes wrong, then right --------------------------------------
_add("make", "goal", None,
     ("{he:they} decided to {make_inf}", "{he:they} ont décidé de {make_inf}"),
     ("{he:they} spent hours trying to {make_inf}", "{he:they} ont passé des heures à essayer de {make_inf}"))
_add("make", "work", None,
     ("{he:they} worked very hard, and it took a long time", "{he:they} ont travaillé très dur, et ça a pris longtemps"),
     ("{N:hero} was very excited, and {he:they} worked for hours",
      "{N:hero} était très impatient{e:hero}, et {he:they} ont travaillé pendant des heures"))
_add("make", "wrong", "fall",
     ("but then {np:thing:the} {broke:thing}", "mais ensuite, {np:thing:the} {broke:thing}"),
     ("but {np:thing:the} was not strong enough, and it {broke:thing}",
      "mais {np:thing:the} n'était pas assez solide, et {pron:thing} {broke:thing}"))
_add("make", "wrong", "agent",
     ("but then {np:agent:a+agent} knocked {np:thing:the} over", "mais ensuite, {np:agent:a+agent} a renversé {np:thing:the}"),
     ("but {np:agent:a+agent} came and knocked {np:thing:the} over",
      "mais {np:agent:a+agent} est arrivé{e:agent} et a renversé {np:thing:the}"))
_add("make", "fix", None,
     ("{N:helper} said that they could try again, and this time they made an even more beautiful one",
      "{N:helper} a dit qu'{he:they} pouvaient recommencer, et cette fois, {he:they} en ont fait {one:thing} encore plus {adj:beautiful:thing}"),
     ("so {he:they} started again, slowly and carefully, and this time it worked",
      "alors {he:they} ont recommencé, doucement et avec soin, et cette fois, ça a marché"))

# --- trip: a trip to a place, with a discovery --------------------------------------------
_add("trip", "journey", None,
     ("{time}, {N:hero} and {N:helper} went on a trip {to_place}",
      "{time}, {N:hero} et {N:helper} sont parti{e:they} en excursion {to_place}"),
     ("{time}, {N:hero} went on a trip {to_place} with {N:helper}",
      "{time}, {N:hero} est parti{e:hero} en excursion {to_place} avec {N:helper}"))
_add("trip", "way", None,
     ("the trip was long, and {N:hero} looked out of the window all the way",
      "le voyage était long, et {N:hero} a regardé par la fenêtre pendant tout le chemin"),
     ("on the way, {he:they} sang songs and ate sandwiches",
      "en chemin, {he:they} ont chanté des chansons et mangé des sandwichs"),
     ("on the way, {he:they} ate sandwiches and drank some water, because {he:they} were thirsty",
      "en chemin, {he:they} ont mangé des sandwichs et bu de l'eau, parce qu'{he:they} avaient soif"),
     ("{N:hero} had a new hat to wear, and {he:they} listened to music all the way",
      "{N:hero} avait un nouveau chapeau à porter, et {he:they} ont écouté de la musique pendant tout le chemin"))
_add("trip", "explore", None,
     ("{he:they} explored {np:place:the} for hours", "{he:they} ont exploré {np:place:the} pendant des heures"),
     ("{he:they} walked around {np:place:the} for a long time", "{he:they} se sont promené{e:they} longtemps autour de {np:place:the}"),
     ("{he:they} explored {np:place:the}, and it was wonderful",
      "{he:they} ont exploré {np:place:the}, et c'était merveilleux"))
_add("trip", "discovery", None,
     ("suddenly, {N:hero} discovered {np:obj:a+} {spot}", "soudain, {N:hero} a découvert {np:obj:a+} {spot}"),
     ("{N:hero} noticed something {spot}, and when {he:hero} came closer, {itwas:obj} {np:obj:a+}",
      "{N:hero} a remarqué quelque chose {spot}, et quand {he:hero} s'est approché{e:hero}, {itwas:obj} {np:obj:a+}"),
     ("{N:hero} discovered {np:obj:a} {spot}, and {pron:obj} {was:obj} very heavy",
      "{N:hero} a découvert {np:obj:a} {spot}, et {pron:obj} {was:obj} très {adj:heavy:obj}"),
     ("suddenly, {N:hero} discovered {np:obj:a+tiny} {spot}",
      "soudain, {N:hero} a découvert {np:obj:a+tiny} {spot}"))
_add("trip", "back", None,
     ("in the evening, {he:they} left {np:place:the} and went home",
      "le soir, {he:they} sont parti{e:they} de {np:place:the} et sont rentré{e:they} à la maison"),
     ("at sunset, {he:they} left {np:place:the}, tired and happy",
      "au coucher du soleil, {he:they} sont parti{e:they} de {np:place:the}, fatigué{e:they} et content{e:they}"))
_add("trip", "show", None,
     ("{he:hero} showed {it:obj} to {N:helper}, who said that {pron:obj} {was:obj} very old",
      "{he:hero} {it:obj} a montré{e:obj} à {N:helper}, qui a dit qu'{pron:obj} {was:obj} très {adj:old:obj}"),
     ("{he:hero} showed {it:obj} to {N:helper}, who was very surprised",
      "{he:hero} {it:obj} a montré{e:obj} à {N:helper}, qui était très surpris{e:helper}"))

TEMPLATES = T

# --- endings: text per language; topical = names a noun of the story's topic -------------
# (which fact each ending states, for the counterbalanced cloze pairs: slmlab.world.pairs)
ENDINGS = {
    "pet_hug": dict(en="in the end, {N:hero} hugged {N:pet}, and {he:hero} was {adj:feeling:hero} again",
                    fr="à la fin, {N:hero} a serré {N:pet} dans ses bras, et {he:hero} était de nouveau {adj:feeling:hero}", topical=False),
    "pet_home": dict(en="after that, {N:hero}, {N:helper} and {N:pet} walked home across {np:place:the}",
                     fr="après ça, {N:hero}, {N:helper} et {N:pet} sont rentré{e:all} à la maison en traversant {np:place:the}", topical=True),
    "pet_leash": dict(en="from that day on, {N:hero} always held {N:pet} on a leash when {he:hero} went {to_place}",
                      fr="depuis ce jour, {N:hero} a toujours tenu {N:pet} en laisse quand {he:hero} allait {to_place}", topical=True),
    "w_glad": dict(en="in the end, {N:hero} was glad that {np:w:the} had come",
                   fr="à la fin, {N:hero} était {adj:glad:hero} que {np:w:the} soit venu{e:w}", topical=False),
    "w_act": dict(en="later, {he:they} {act_past} in the sun, and {N:hero} was {adj:feeling:hero}",
                  fr="plus tard, {he:they} {act_past} au soleil, et {N:hero} était {adj:feeling:hero}", topical=True),
    "g_love": dict(en="{N:helper} loved {np:obj:the} and hugged {N:hero}",
                   fr="{N:helper} a adoré {np:obj:the} et a embrassé {N:hero}", topical=True),
    "g_thank": dict(en="{N:helper} was {adj:feeling:helper}, and {he:helper} thanked {N:hero} for {np:obj:the}",
                    fr="{N:helper} était {adj:feeling:helper}, et {he:helper} a remercié {N:hero} pour {np:obj:the}", topical=True),
    "c_share": dict(en="{N:hero} was {adj:feeling:hero}, and {N:helper} gave {him:hero} {np:obj:a+} as a prize",
                    fr="{N:hero} était {adj:feeling:hero}, et {N:helper} {dat:hero} a donné {np:obj:a+} comme prix", topical=True),
    "c_hand": dict(en="{N:helper} was not angry, {he:helper} laughed and shook {N:hero}'s hand",
                   fr="{N:helper} n'était pas fâché{e:helper}, {he:helper} a ri et a serré la main de {N:hero}", topical=False),
    "c_again": dict(en="after that, {N:hero} and {N:helper} played with {np:obj:a+} for a long time",
                    fr="après ça, {N:hero} et {N:helper} ont joué longtemps avec {np:obj:a+}", topical=True),
    "c_feel": dict(en="after the {game}, {N:hero} was very {adj:feeling:hero}",
                   fr="après {game}, {N:hero} était très {adj:feeling:hero}", topical=False),
    "f_brave": dict(en="in the end, {N:hero} felt very brave, and {he:hero} thanked {N:helper}",
                    fr="à la fin, {N:hero} se sentait très {adj:brave:hero}, et {he:hero} a remercié {N:helper}", topical=False),
    "f_not": dict(en="after that, {N:hero} was {adj:feeling:hero} and not scared of {np:target:the} anymore",
                  fr="après ça, {N:hero} était {adj:feeling:hero} et n'avait plus peur de {np:target:the}", topical=True),
    "m_proud": dict(en="in the end, {N:hero} was very proud of {np:obj:the}",
                    fr="à la fin, {N:hero} était très {adj:proud:hero} de {np:obj:the}", topical=True),
    "m_show": dict(en="{N:hero} showed {np:obj:the} to everyone, and {he:hero} was {adj:feeling:hero}",
                   fr="{N:hero} a montré {np:obj:the} à tout le monde, et {he:hero} était {adj:feeling:hero}", topical=True),
    "t_keep": dict(en="{N:hero} took {it:obj} home from {np:place:the} and kept {it:obj} in {his:hero} room",
                   fr="{N:hero} {it:obj} a rapporté{e:obj} de {np:place:the} et {it:obj} a gardé{e:obj} dans sa chambre", topical=True),
    "t_sleep": dict(en="at night, {N:hero} slept with {np:obj:the} next to {his:hero} bed",
                    fr="la nuit, {N:hero} a dormi avec {np:obj:the} à côté de son lit", topical=True),
    "pet_wash": dict(en="at home, {N:hero} washed {N:pet} until {he:pet} was clean again",
                     fr="à la maison, {N:hero} a lavé {N:pet} jusqu'à ce qu'{he:pet} soit de nouveau propre", topical=False),
    "t_best": dict(en="{N:hero} said that it was the best trip ever, because {he:hero} had found {np:obj:the}",
                   fr="{N:hero} a dit que c'était le plus beau voyage, parce qu'{he:hero} avait trouvé {np:obj:the}", topical=True),
}
