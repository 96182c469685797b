"""The twelve topics: places, objects, spots, sights, agents, activities and backgrounds.

Blocks are parsed into lexicon entries (see `slmlab.world.lexicon` for the spec formats).
A line "en = fr" defines a noun; a line with only the English key refers to one defined
earlier. Spot lines end in "*" (English side) when the spot is used in the plural
("near the rocks"). Agent lines read "adj|noun"; activity lines "verb|prep|det|noun" with det
in a (indefinite), some (indefinite plural), the, the* (definite plural) and prep a key of
`PREPS` or empty.
"""

from __future__ import annotations

from slmlab.world.lexicon import NOUNS, Topic, _nouns

# topic name -> its vocabulary; owned and filled by this module, in TOPICS order
TOPIC_DATA: dict[str, Topic] = {}

# prep key -> (English, French); an empty string means the language uses no preposition
PREPS = {"in": ("in", "dans"), "with": ("with", "avec"), "on": ("on", "sur"),
         "up": ("up", "à"), "along": ("along", "le long de"), "mount": ("", "sur"),
         "out": ("out", ""), "down": ("down", "sur"), "around": ("around", "autour de")}
# spot prepositions (where something is found or seen) and the one used after "fell"
SPOT_PREPS = {"near": ("near", "près de"), "behind": ("behind", "derrière"),
              "next to": ("next to", "à côté de"), "under": ("under", "sous")}
FALL_PREPS = ("behind", "under", "next to")


def _ref_or_new(line: str) -> str:
    line = line.strip()
    if "=" in line:
        return _nouns(line)[0]
    if line not in NOUNS:
        raise KeyError(f"topic vocabulary refers to undefined noun {line!r}")
    return line


def _lines(block: str) -> list[str]:
    return [ln.strip() for ln in block.strip().splitlines() if ln.strip()]


def _topic(name, places, objects, spots, sights, agents, activities, weather) -> None:
    t = Topic(name)
    for line in _lines(places):
        body, prep = line.rsplit("@", 1)
        key = _ref_or_new(body)
        t.places.append((key, prep.strip()))
    t.objects = [_ref_or_new(ln) for ln in _lines(objects)]
    for line in _lines(spots):
        plural = "*" in line.split("=")[0]
        t.spots.append((_ref_or_new(line.replace("*", "")), "pl" if plural else "sg"))
    t.animals = [_ref_or_new(ln) for ln in _lines(sights)]
    for line in _lines(agents):
        adj, noun = line.split("|")
        t.agents.append((_ref_or_new(noun), adj or None))
    for line in _lines(activities):
        verb, prep, det, noun = line.split("|")
        t.activities.append((verb, prep or None, det, _ref_or_new(noun)))
    t.weather = [dict(zip(("en", "fr"), (s.strip() for s in ln.split("=")))) for ln in _lines(weather)]
    TOPIC_DATA[name] = t


_topic("beach", """
beach = plage:f @à
pier = jetée:f @sur
cove = crique:f @dans""", """
ball = balle:f
bucket = seau:m:seaux
spade = pelle:f
shell = coquillage:m
hat = chapeau:m:chapeaux
kite = cerf-volant:m:cerfs-volants
towel = serviette:f
starfish/starfish = étoile de mer:f:étoiles de mer""", """
rock* = rocher:m
dune = dune:f
beach hut = cabine de plage:f:cabines de plage
lifeguard tower = poste de secours:m:postes de secours""", """
crab = crabe:m
seagull = mouette:f
jellyfish/jellyfish = méduse:f""", """
big|wave = vague:f
|seagull
strong|wind = vent:m""", """
build||a|sandcastle = château de sable:m:châteaux de sable
collect||some|pebble = galet:m
swim|in|the|sea = mer:f
dig||a|hole = trou:m
jump|in|the*|wave""", """
The sun was shining. = Le soleil brillait.
The sand was warm. = Le sable était chaud.
The sea was very blue. = La mer était très bleue.""")

_topic("forest", """
forest = forêt:f @dans
clearing = clairière:f @dans
cabin = cabane:f @à""", """
basket = panier:m
stick = bâton:m
pine cone = pomme de pin:f:pommes de pin
feather = plume:f
acorn = gland:m
mushroom = champignon:m
map = carte:f
lantern = lanterne:f""", """
tree = arbre:m
bush = buisson:m
log = tronc:m
stream = ruisseau:m:ruisseaux
oak = chêne:m""", """
squirrel = écureuil:m
owl = hibou:m:hiboux:h
fox = renard:m
deer/deer = biche:f
hedgehog = hérisson:m:hérissons:h
rabbit = lapin:m""", """
|squirrel
|fox
|magpie = pie:f""", """
pick||some|blackberry/blackberries = mûre:f
climb|up|a|tree
build||a|cabin
walk|along|the|path = sentier:m
collect||some|acorn""", """
The trees were very tall. = Les arbres étaient très hauts.
The birds were singing. = Les oiseaux chantaient.
The air was cool. = L'air était frais.""")

_topic("kitchen", """
kitchen = cuisine:f @dans
bakery = boulangerie:f @à
pantry = cellier:m @dans""", """
spoon = cuillère:f
cup = tasse:f
bowl = bol:m
apron = tablier:m
recipe book = livre de recettes:m:livres de recettes
cookie = biscuit:m
whisk = fouet:m
jar = bocal:m:bocaux""", """
table = table:f
oven = four:m
fridge = frigo:m
sink = évier:m
cupboard = placard:m
chair = chaise:f""", """
mouse/mice = souris:f:souris
fly/flies = mouche:f
cat""", """
|mouse
|cat
big|dog""", """
bake||a|cake = gâteau:m:gâteaux
make||some|pancake = crêpe:f
cut||some|carrot = carotte:f
wash||the*|plate = assiette:f
make||a|pie = tarte:f""", """
It smelled of chocolate. = Ça sentait le chocolat.
The cookies were delicious. = Les biscuits étaient délicieux.
The pancakes were sweet. = Les crêpes étaient sucrées.
It was raining outside. = Il pleuvait dehors.""")

_topic("school", """
school = école:f @à
classroom = classe:f @dans
library = bibliothèque:f @à
playground = cour de récréation:f:cours de récréation @dans""", """
pencil = crayon:m
notebook = cahier:m
ruler = règle:f
eraser = gomme:f
schoolbag = cartable:m
book = livre:m
drawing = dessin:m
glue stick = bâton de colle:m:bâtons de colle""", """
desk = bureau:m:bureaux
blackboard = tableau:m:tableaux
bench = banc:m
window = fenêtre:f
shelf/shelves = étagère:f
door = porte:f""", """
hamster = hamster:m:hamsters:h
fish/fish = poisson:m
bird = oiseau:m:oiseaux""", """
strong|wind
|hamster
big|boy = garçon:m""", """
read||a|story = histoire:f
draw||a|house = maison:f
write||a|letter = lettre:f
sing||a|song = chanson:f
paint||a|flower = fleur:f""", """
There were children everywhere. = Il y avait des enfants partout.
The teacher was very kind. = La maîtresse était très gentille.
The bell was ringing. = La cloche sonnait.
The children were very noisy. = Les enfants étaient très bruyants.""")

_topic("farm", """
farm = ferme:f @à
barn = grange:f @dans
field = champ:m @dans""", """
egg = œuf:m
rope = corde:f
apple = pomme:f
bell = cloche:f
boot = botte:f
pitchfork = fourche:f
ribbon = ruban:m
lamp = lampe:f""", """
haystack = botte de foin:f:bottes de foin
tractor = tracteur:m
fence = barrière:f
pond = mare:f
henhouse = poulailler:m""", """
cow = vache:f
pig = cochon:m
hen = poule:f
horse = cheval:m:chevaux
sheep/sheep = mouton:m
goat = chèvre:f
duck = canard:m
donkey = âne:m""", """
hungry|goat
|pig
big|horse""", """
feed||the*|hen
milk||a|cow
ride|mount|a|horse
collect||some|egg
ride|mount|a|donkey""", """
The cows were mooing in the field. = Les vaches meuglaient dans le champ.
The animals were hungry. = Les animaux avaient faim.
The grass was wet. = L'herbe était mouillée.""")

_topic("snow", """
mountain = montagne:f @à
hill = colline:f @sur
ski slope = piste:f @sur""", """
glove = gant:m
scarf/scarves = écharpe:f
sled = luge:f
woolly hat = bonnet:m
ski = ski:m
snowball = boule de neige:f:boules de neige
button = bouton:m
whistle = sifflet:m""", """
fir tree = sapin:m
snowman = bonhomme de neige:m:bonshommes de neige
chalet = chalet:m
lake = lac:m""", """
marmot = marmotte:f
reindeer/reindeer = renne:m
penguin = pingouin:m
robin = rouge-gorge:m:rouges-gorges""", """
strong|wind
big|dog
|marmot""", """
build||a|snowman
slide|down|the|hill
ski|on|the|ski slope
throw||some|snowball
make||a|snow angel = ange de neige:m:anges de neige""", """
It was very cold. = Il faisait très froid.
Snow was falling softly. = La neige tombait doucement.
Everything was white. = Tout était blanc.""")

_topic("space", """
moon = lune:f @sur
rocket = fusée:f @dans
space station = station spatiale:f:stations spatiales @dans
planet = planète:f @sur""", """
helmet = casque:m
star map = carte du ciel:f:cartes du ciel
telescope = télescope:m
moon rock = pierre de lune:f:pierres de lune
flashlight = lampe de poche:f:lampes de poche
radio = radio:f
robot = robot:m
flag = drapeau:m:drapeaux""", """
crater = cratère:m
antenna = antenne:f
control panel = tableau de bord:m:tableaux de bord
seat = siège:m""", """
alien = extraterrestre:m
comet = comète:f
satellite = satellite:m""", """
|alien
green|alien
little|robot""", """
explore||a|crater
watch||the*|star = étoile:f
fly||the|rocket
count||the*|star
fix||the|antenna""", """
The stars were shining. = Les étoiles brillaient.
The Earth looked very small. = La Terre semblait toute petite.
Everything was quiet. = Tout était silencieux.""")

_topic("birthday", """
party = fête:f @à
living room = salon:m @dans
restaurant = restaurant:m @à""", """
present = cadeau:m:cadeaux
balloon = ballon:m
candle = bougie:f
party hat = chapeau pointu:m:chapeaux pointus
birthday card = carte d'anniversaire:f:cartes d'anniversaire
doll = poupée:f
teddy bear = ours en peluche:m:ours en peluche
trumpet = trompette:f""", """
cake
sofa = canapé:m
curtain = rideau:m:rideaux
piano = piano:m
armchair = fauteuil:m""", """
puppy/puppies = chiot:m
parrot = perroquet:m
goldfish/goldfish = poisson rouge:m:poissons rouges""", """
|puppy
big|dog
|parrot""", """
blow|out|the*|candle
open||the*|present
decorate||the|living room
sing||a|song
eat||some|sweet = bonbon:m""", """
Everyone was laughing. = Tout le monde riait.
There was music everywhere. = Il y avait de la musique partout.
There were balloons everywhere. = Il y avait des ballons partout.""")

_topic("garden", """
garden = jardin:m @à
greenhouse = serre:f @dans
vegetable patch = potager:m @dans""", """
watering can = arrosoir:m
flower pot = pot de fleurs:m:pots de fleurs
sunflower = tournesol:m
tulip = tulipe:f
wheelbarrow = brouette:f
hose = tuyau:m:tuyaux
strawberry/strawberries = fraise:f
rake = râteau:m:râteaux""", """
hedge = haie:f:haies:h
bench
apple tree = pommier:m
shed = cabanon:m
fence""", """
ladybird = coccinelle:f
snail = escargot:m
butterfly/butterflies = papillon:m
bee = abeille:f
worm = ver de terre:m:vers de terre""", """
|blackbird = merle:m
|hedgehog
little|rabbit""", """
plant||some|tomato/tomatoes = tomate:f
water||the*|flower
pick||some|strawberry
dig||a|hole
plant||a|tree""", """
The flowers smelled sweet. = Les fleurs sentaient bon.
The sun was warm. = Le soleil était chaud.
The bees were buzzing. = Les abeilles bourdonnaient.""")

_topic("sea", """
boat = bateau:m:bateaux @sur
harbour = port:m @à
island = île:f @sur
lighthouse = phare:m @à""", """
fishing rod = canne à pêche:f:cannes à pêche
net = filet:m
life jacket = gilet de sauvetage:m:gilets de sauvetage
compass/compasses = boussole:f
bottle = bouteille:f
cap = casquette:f
spyglass/spyglasses = longue-vue:f:longues-vues
bag = sac:m""", """
mast = mât:m
sail = voile:f
deck = pont:m
cabin door = porte de la cabine:f:portes de la cabine""", """
dolphin = dauphin:m
whale = baleine:f
turtle = tortue:f
seal = phoque:m""", """
big|wave
strong|wind
|seal""", """
sail|around|the|island
catch||a|fish
watch||the*|dolphin
pull||the|net
swim|with|the*|turtle""", """
The sea was calm. = La mer était calme.
The wind was blowing. = Le vent soufflait.
The sky was grey. = Le ciel était gris.""")

_topic("city", """
park = parc:m @à
market = marché:m @à
museum = musée:m @à
zoo = zoo:m @à""", """
ticket = ticket:m
wallet = porte-monnaie:m:porte-monnaie
ice cream = glace:f
scooter = trottinette:f
camera = appareil photo:m:appareils photo
balloon
umbrella = parapluie:m
postcard = carte postale:f:cartes postales""", """
fountain = fontaine:f
statue = statue:f
bus stop = arrêt de bus:m:arrêts de bus
street lamp = lampadaire:m
bridge = pont:m
kiosk = kiosque:m""", """
pigeon = pigeon:m
monkey = singe:m
lion = lion:m
giraffe = girafe:f
elephant = éléphant:m""", """
|pigeon
|monkey
big|dog""", """
buy||a|ice cream
cross||the|street = rue:f
visit||the|museum
watch||the*|car = voiture:f
feed||the*|pigeon""", """
The streets were busy. = Les rues étaient animées.
The cars were honking. = Les voitures klaxonnaient.
The sun was shining. = Le soleil brillait.""")

_topic("rain", """
street @dans
veranda = véranda:f @dans
attic = grenier:m @dans""", """
raincoat = imperméable:m
boot
paper boat = bateau en papier:m:bateaux en papier
hood = capuche:f
puzzle = puzzle:m
board game = jeu de société:m:jeux de société
marble = bille:f
flashlight""", """
puddle = flaque:f
gutter = caniveau:m:caniveaux
tree
roof = toit:m
window""", """
frog = grenouille:f
snail
worm
duck""", """
strong|wind
big|dog
|duck""", """
jump|in|the*|puddle
splash|in|a|puddle
make||a|paper boat
watch||the*|raindrop = goutte de pluie:f:gouttes de pluie
play|with|a|marble""", """
It was raining hard. = Il pleuvait très fort.
The sky was dark. = Le ciel était sombre.
The wind was blowing. = Le vent soufflait.""")

# things a child makes (the "make" arc): things that can fall over and break
_CREATIONS = {"beach": ("build|sandcastle", "make|shell necklace = collier de coquillages:m:colliers de coquillages"),
              "forest": ("build|cabin", "make|necklace = collier:m"), "kitchen": ("bake|cake", "make|pie"),
              "school": ("build|tower = tour:f", "make|paper plane = avion en papier:m:avions en papier"),
              "farm": ("build|scarecrow = épouvantail:m", "build|fence"),
              "snow": ("build|snowman", "build|igloo = igloo:m"), "space": ("build|robot", "build|rocket"),
              "birthday": ("bake|cake", "make|crown = couronne:f"),
              "garden": ("build|birdhouse = nichoir:m", "build|scarecrow"),
              "sea": ("build|raft = radeau:m:radeaux", "make|paper boat"), "city": ("make|kite", "build|bridge"),
              "rain": ("build|tower", "make|paper boat")}
for _name, _t in TOPIC_DATA.items():
    for _line in _CREATIONS[_name]:
        _verb, _noun = _line.split("|")
        _t.creations.append((_verb, _ref_or_new(_noun)))
# place key -> French locative preposition, whatever the topic (endings travel across topics)
PLACE_PREP = {k: prep for t in TOPIC_DATA.values() for k, prep in t.places}
# "under" makes no sense with these spots: spot() says "next to" instead
NOT_UNDER = {"pond", "lake", "puddle", "stream", "dune", "crater", "fountain", "gutter", "rock",
             "sink", "haystack", "hedge", "log", "snowman", "fence", "mast", "sail", "oven"}

assert tuple(TOPIC_DATA) == ("beach", "forest", "kitchen", "school", "farm", "snow", "space",
                             "birthday", "garden", "sea", "city", "rain")
