"""A release: a folder to deposit (Zenodo, a repository, a paper's supplement) that says what
it is: the data as Turtle and TriG, the ontology, the shapes, the VoID/DCAT description, a
README with how to cite it, and SHA-256 checksums of every file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import SettingsError
from kg.export import EXPORT_FORMATS, export
from kg.namespaces import Namespaces
from kg.store import GraphStore
from kg.vocabulary import ontology_text, shapes_text
from kg.void import VOID_PREFIXES, dataset_description

__all__ = ["CHECKSUMS", "Release", "write_release"]

CHECKSUMS = "SHA256SUMS"
_DATA = {"crisiskg.ttl": "turtle", "crisiskg.trig": "trig"}


@dataclass(frozen=True)
class Release:
    """What was written: the folder and its files (checksums file last)."""

    folder: Path
    files: tuple[str, ...]


def write_release(store: GraphStore, ns: Namespaces, folder: Path, url: str | None = None
                  ) -> Release:
    """Write the release into `folder` (new or empty). `url` is where the folder will be
    published; the description lists the data files there (without it, it lists none)."""
    if folder.exists() and any(folder.iterdir()):
        raise SettingsError(f"{folder} is not empty; a release goes into a new folder, so "
                            "nothing in it is overwritten")
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for name, fmt in _DATA.items():
        # RDF 1.1 for every tool: triple terms a SPARQL Update wrote become rdf:Statement nodes.
        files[name] = export(store, ns, fmt, rdf11=True).data
    files["ontology.ttl"] = ontology_text(ns).encode("utf-8")
    files["shapes.ttl"] = shapes_text(ns).encode("utf-8")
    base = url.rstrip("/") + "/" if url else None
    dumps = ({base + name: (EXPORT_FORMATS[fmt].rdf_format.media_type, False)
              for name, fmt in _DATA.items()} if base else {})
    description = dataset_description(store, ns, None, dumps, base)
    files["void.ttl"] = ox.serialize(description, format=ox.RdfFormat.TURTLE,
                                     prefixes={**ns.prefixes(), **VOID_PREFIXES}) or b""
    files["README.md"] = _readme(store, ns, files, base).encode("utf-8")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                   for name, data in sorted(files.items()))
    (folder / CHECKSUMS).write_text(sums, encoding="utf-8")
    return Release(folder, (*sorted(files), CHECKSUMS))


def _readme(store: GraphStore, ns: Namespaces, files: dict[str, bytes], base: str | None) -> str:
    manifest = store.manifest
    year = manifest.created[:4]
    triples = sum(1 for _ in store.quads())
    sources = [row["doc"].value for row in store.query(
        "SELECT ?doc WHERE { ?doc a ckg:SourceDocument } ORDER BY ?doc", prefixes=ns.prefixes())]
    where = f"It is published at <{base}>.\n\n" if base else ""
    listing = "\n".join(f"- `{name}` ({len(data):,} bytes)" for name, data in files.items())
    return f"""# crisiskg, dataset version {manifest.dataset_version}

A knowledge graph of events in international conflict and the actors and places involved,
built from annotated news and analysis articles. Every fact points to the exact quote that
supports it; what a document only attributes to someone is kept as that someone's claim.
Built {manifest.created} ({triples:,} quads in {len(store.named_graphs())} named graphs) from
{len(sources)} source documents:

{chr(10).join(f"- <{s}>" for s in sources)}

{where}## Files

- `crisiskg.ttl` (Turtle; the named graphs merged) and `crisiskg.trig` (TriG; the named graphs
  kept: one per document, the ontology, the inferred triples, the links out);
- `ontology.ttl`, the crisiskg OWL 2 ontology, and `shapes.ttl`, the SHACL shapes the data
  conforms to;
- `void.ttl`, the VoID/DCAT description: licence, sources, counts, class and property
  partitions;
- `{CHECKSUMS}`, the SHA-256 of every other file (`sha256sum -c {CHECKSUMS}` checks them).

{listing}

The data files are RDF 1.1 (any RDF 1.2 triple terms are rewritten as `rdf:Statement` nodes),
with blank nodes labelled by RDFC-1.0 and statements sorted, so the same graph gives the same
bytes and two releases diff cleanly.

## How to cite

crisiskg contributors ({year}). *crisiskg: a knowledge graph of international conflict with
quote-level provenance*, dataset version {manifest.dataset_version}. Licence CC BY 4.0.
{base or ns.base}

```bibtex
@misc{{crisiskg_{manifest.dataset_version},
  author = {{{{crisiskg contributors}}}},
  title = {{crisiskg: a knowledge graph of international conflict with quote-level provenance}},
  year = {{{year}}},
  note = {{Dataset version {manifest.dataset_version}}},
  howpublished = {{\\url{{{base or ns.base}}}}}
}}
```

## Licence

The ontology, the annotations and the graph: CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). The quotes are short excerpts of the source
documents, which remain their authors' and publishers'.
"""
