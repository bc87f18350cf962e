"""Word lists `bookly seed` composes names, titles, descriptions and reviews from."""

# Space- or bar-separated strings read better here than hundreds of quoted items.
# ruff: noqa: SIM905

FIRST = """ada alan anna boris chen clara dmitri elena farid grace hana ivan jonas kaito lena maria
nadia omar priya quinn rosa sami tomas uma victor wen yara zoe""".split()
LAST = """abbott baker castro dubois eriksen fischer garcia haddad ito jensen kowalski lindqvist
moreau nakamura okafor petrov quist rossi silva tanaka ueda vargas weber xu yilmaz zhou""".split()
ADJECTIVES = """silent hidden last burning frozen golden broken distant crimson endless forgotten
hollow iron lonely midnight quiet restless secret shattered wandering wild""".split()
NOUNS = """river garden empire winter clock archive harbor mountain orchard lantern kingdom voyage
mirror forest city storm island library machine letter dream shadow""".split()
VERBS = "remembers hides discovers loses follows builds crosses betrays rescues questions".split()
PLACES = """Lisbon|Kyoto|the Steppe|Marrakesh|the North|Vienna|the Delta|Patagonia|Samarkand
""".strip().split("|")
PEOPLE = """a young cartographer|an old sailor|a lone sister|a reluctant heir|a retired detective|
a village teacher|an exiled poet|a clockmaker""".replace("\n", "").split("|")
PUBLISHERS = "Penguin|Vintage|Faber & Faber|Tor|Gollancz|Picador|Orbit|Granta|Hachette".split("|")
LANGUAGES = ["en"] * 12 + "fr de es it ja pt nl sv".split()
TAGS = """fantasy|science fiction|mystery|thriller|romance|history|biography|poetry|classic|horror|
adventure|philosophy|travel|humour|young adult|crime|war|memoir|essays|short stories""".replace(
    "\n", ""
).split("|")
OPINIONS = """Beautifully written.|Could not put it down.|Slow start, strong finish.|Not for me.|
The ending stayed with me.|Overlong but rewarding.|A quiet masterpiece.|Characters felt flat.|
Read it twice.|Better than the film.""".replace("\n", "").split("|")
