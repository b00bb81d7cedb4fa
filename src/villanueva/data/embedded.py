"""The embedded list: Spain's municipalities, each with its province, shipped by the
`busca-municipio` package as `Province;Name` lines.

Everything about Spain's geography lives here, behind the source: the package spells some
provinces the way a sorted index does ("Coruña, A", "lerida"), renamed to their official names;
each province belongs to one of the 19 autonomous communities and cities (Ceuta and Melilla
included), which a province run can sample from and guess by; and the other names people use for
them, in Spanish or in the regions' own languages.
"""

from importlib import resources

from villanueva.data.labels import Labelling
from villanueva.errors import UserError, parameter

EMBEDDED = "embedded:municipios"
EMBEDDED_LABELS = ("province", "community")  # what the embedded list can be conditioned on

# The names of the embedded list that are not the official ones.
OFFICIAL_PROVINCE = {
    "Balears, Illes": "Illes Balears",
    "Coruña, A": "A Coruña",
    "Palmas, Las": "Las Palmas",
    "Rioja, La": "La Rioja",
    "lerida": "Lleida",
}

COMMUNITIES = {
    "Andalucía": ["Almería", "Cádiz", "Córdoba", "Granada", "Huelva", "Jaén", "Málaga", "Sevilla"],
    "Aragón": ["Huesca", "Teruel", "Zaragoza"],
    "Canarias": ["Las Palmas", "Santa Cruz de Tenerife"],
    "Cantabria": ["Cantabria"],
    "Castilla y León": [
        "Ávila",
        "Burgos",
        "León",
        "Palencia",
        "Salamanca",
        "Segovia",
        "Soria",
        "Valladolid",
        "Zamora",
    ],
    "Castilla-La Mancha": ["Albacete", "Ciudad Real", "Cuenca", "Guadalajara", "Toledo"],
    "Cataluña": ["Barcelona", "Girona", "Lleida", "Tarragona"],
    "Ceuta": ["Ceuta"],
    "Comunidad de Madrid": ["Madrid"],
    "Comunidad Foral de Navarra": ["Navarra"],
    "Comunitat Valenciana": ["Alicante", "Castellón", "Valencia"],
    "Extremadura": ["Badajoz", "Cáceres"],
    "Galicia": ["A Coruña", "Lugo", "Ourense", "Pontevedra"],
    "Illes Balears": ["Illes Balears"],
    "La Rioja": ["La Rioja"],
    "Melilla": ["Melilla"],
    "País Vasco": ["Álava", "Bizkaia", "Gipuzkoa"],
    "Principado de Asturias": ["Asturias"],
    "Región de Murcia": ["Murcia"],
}
COMMUNITY_OF = {province: community for community, provinces in COMMUNITIES.items() for province in provinces}

# Other names people use, in Spanish or in the regions' own languages.
ALIASES = {
    "Alacant": "Alicante",
    "Araba": "Álava",
    "Baleares": "Illes Balears",
    "Castelló": "Castellón",
    "Catalunya": "Cataluña",
    "Euskadi": "País Vasco",
    "Gerona": "Girona",
    "Guipúzcoa": "Gipuzkoa",
    "La Coruña": "A Coruña",
    "Lérida": "Lleida",
    "Orense": "Ourense",
    "València": "Valencia",
    "Vizcaya": "Bizkaia",
}


def official_province(name: str) -> str:
    return OFFICIAL_PROVINCE.get(name, name)


def community_of(province: str) -> str:
    """The autonomous community of a province, given by its official name."""
    return COMMUNITY_OF[province]


PROVINCES = Labelling("community", COMMUNITIES, ALIASES)
COMMUNITY_LABELS = Labelling(aliases=ALIASES)


def read_embedded(label: str | None) -> tuple[list[str], list[str], Labelling]:
    """The municipalities, and their provinces or communities (`label`), with what is known of those."""
    if label not in (None, *EMBEDDED_LABELS):
        raise UserError(
            f"the embedded list can be conditioned on {' or '.join(EMBEDDED_LABELS)}, not {label!r} "
            f"(for your own CSV, use {parameter('data')} FILE {parameter('column')} NAMES "
            f"{parameter('label_column')} LABELS)"
        )
    text = resources.files("busca_municipio").joinpath("municipios.txt").read_text(encoding="utf-8")
    rows = [line.split(";", 1) for line in text.splitlines() if ";" in line]
    provinces = [official_province(province) for province, _ in rows]
    labels = [community_of(province) for province in provinces] if label == "community" else provinces
    return [name for _, name in rows], labels, COMMUNITY_LABELS if label == "community" else PROVINCES
