"""The `kg` command line: build, validate, load, stats, query, link, export, release, serve.

Errors become a message and an exit code in one place, `main`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kg.errors import KGError
from kg.settings import Settings

if TYPE_CHECKING:
    from kg.corpus import Corpus
    from kg.link_proposals import Proposal

__all__ = ["main"]


@click.group()
@click.option("--base-iri", default=None,
              help="Base IRI (default: KG_BASE_IRI or https://w3id.org/crisiskg/).")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=None,
              help="Store folder (default: KG_STORE_DIR or var/store).")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), default=None,
              help="Corpus folder (default: KG_CORPUS_DIR or the packaged corpus).")
@click.pass_context
def cli(ctx: click.Context, base_iri: str | None, store_dir: Path | None,
        corpus_dir: Path | None) -> None:
    """crisiskg: build, check, query and serve the knowledge graph."""
    ctx.obj = Settings.from_env(base_iri=base_iri, store_dir=store_dir, corpus_dir=corpus_dir)


@cli.command()
@click.pass_obj
def validate(settings: Settings) -> None:
    """Check the corpus (format, quotes, ontology terms, SHACL, OWL) without writing a store."""
    from kg.build import validate_corpus

    report = validate_corpus(settings, progress=_progress)
    click.echo(report.summary())


@cli.command()
@click.option("--to", "to_url", default=None, metavar="URL",
              help="Also push the build to this SPARQL server (its query URL); "
                   "KG_BACKEND_UPDATE and KG_BACKEND_STORE give its other URLs.")
@click.option("--replace-all", is_flag=True,
              help="With --to: push even to a dataset holding data that is not a crisiskg "
                   "build (all of it is replaced).")
@click.pass_obj
def build(settings: Settings, to_url: str | None, replace_all: bool) -> None:
    """Build the graph into a new store and switch to it; a failed build changes nothing.
    With --to, the build then replaces what a remote SPARQL server serves."""
    from dataclasses import replace

    from kg.build import build as run_build

    # Checked before the build, so a malformed URL costs nothing.
    target = (replace(settings, backend=Settings.from_env({}, backend=to_url).backend)
              if to_url else None)
    report = run_build(settings, progress=_progress)
    click.echo(report.summary())
    if target is not None:
        from kg.backends import backend_of
        from kg.remote import push_build
        from kg.store import ReadStore

        backend = backend_of(target)
        assert backend is not None
        _progress(f"pushing the build to {backend.query_url}")
        with ReadStore.open_current(settings.store_dir) as store:
            sent = push_build(backend, store.quads(), store.manifest, replace_all)
        click.echo(f"pushed {sent} quads to {backend.query_url} "
                   f"(build {store.manifest.build_id})")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--graph", default=None, metavar="IRI",
              help="The graph of the file's triples (default: graph/loaded/<file name>).")
@click.option("--format", "fmt", default=None,
              type=click.Choice(["turtle", "ntriples", "nquads", "trig", "rdfxml", "jsonld"]),
              help="The files' format (default: from each file's name).")
@click.option("--to", "to_url", default=None, metavar="URL",
              help="Load into the build a SPARQL server serves (its query URL) instead.")
@click.pass_obj
def load(settings: Settings, files: tuple[Path, ...], graph: str | None,
         fmt: str | None, to_url: str | None) -> None:
    """Bulk-load RDF files (Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD; .gz too) into
    the store as named graphs; a file that fails leaves the store as it was."""
    from dataclasses import replace

    import pyoxigraph as ox

    from kg.backends import backend_of
    from kg.loading import load_files, load_files_to, plan_sources
    from kg.namespaces import Namespaces

    formats = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
               "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
               "rdfxml": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD}
    sources = plan_sources(list(files), Namespaces(settings.base_iri), graph,
                           formats[fmt] if fmt else None)
    target = backend_of(replace(settings, backend=Settings.from_env({}, backend=to_url).backend)
                        ) if to_url else None
    with _ProgressBars() as bars:
        report = load_files_to(target, settings, sources, bars.show) if target is not None \
            else load_files(settings, sources, bars.show)
    click.echo(report.summary())


class _ProgressBars:
    """One progress bar on standard error for each thing read in turn."""

    def __init__(self) -> None:
        self._label: str | None = None
        self._bar: Any = None
        self._done = 0

    def show(self, label: str, done: int, total: int) -> None:
        if label != self._label:
            self.close()
            self._label, self._done = label, 0
            self._bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> _ProgressBars:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@cli.command()
@click.pass_obj
def stats(settings: Settings) -> None:
    """Counts by class, links and evidence coverage of the built store."""
    from kg.stats import store_stats

    click.echo(store_stats(settings).render())


@cli.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "tsv"]),
              default="table", show_default=True, help="Output format.")
@click.pass_obj
def query(settings: Settings, sparql: str, fmt: str) -> None:
    """Run a SPARQL query on the built store (the project's prefixes are predeclared)."""
    from kg.querying import run_query

    sys.stdout.write(run_query(settings, sparql, fmt))


@cli.command()
@click.argument("name", required=False)
@click.argument("values", nargs=-1, metavar="[PARAMETER=VALUE]...")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "tsv"]),
              default="table", show_default=True, help="Output format.")
@click.pass_obj
def run(settings: Settings, name: str | None, values: tuple[str, ...], fmt: str) -> None:
    """Run a saved query (queries/*.rq) by name; without a name, list them."""
    from kg.errors import NotFound
    from kg.namespaces import Namespaces
    from kg.querying import run_query
    from kg.saved_queries import load_catalog

    namespaces = Namespaces(settings.base_iri)
    catalog = load_catalog(settings.queries_dir, namespaces)
    for problem in catalog.problems:
        click.echo(f"warning: left out {problem}", err=True)
    if name is None:
        for listed_query in catalog.queries.values():
            parameters = " ".join(f"{p.name}={p.default or '...'}"
                                  for p in listed_query.parameters)
            listed = f"{listed_query.name}  {listed_query.summary}"
            click.echo(f"{listed}  [{parameters}]" if parameters else listed)
        return
    saved = catalog.queries.get(name)
    if saved is None:
        raise NotFound(f"no saved query {name!r} in {settings.queries_dir}; `kg run` lists them")
    given = dict(value.partition("=")[::2] for value in values)
    bound = saved.substitutions(given, namespaces.prefixes())
    sys.stdout.write(run_query(settings, saved.text, fmt, bound))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["turtle", "trig", "ntriples", "nquads",
                                                     "jsonld", "rdfxml"]), default=None,
              help="Format (default: from the -o file name, else turtle).")
@click.option("--graph", "graphs", multiple=True, metavar="NAME",
              help="A document's graph, ontology, inferred, links, or all (default; repeatable).")
@click.option("--query", "query_file", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              help="Export the triples a CONSTRUCT query in this file makes, instead.")
@click.option("--rdf11", is_flag=True,
              help="Rewrite RDF 1.2 triple terms as rdf:Statement nodes, for RDF 1.1 tools.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (.gz compresses); default: standard output.")
@click.pass_obj
def export(settings: Settings, fmt: str | None, graphs: tuple[str, ...],
           query_file: Path | None, rdf11: bool, output: Path | None) -> None:
    """Export the graph as a file: the same graph always gives the same bytes."""
    from kg.errors import SettingsError
    from kg.export import export as run_export
    from kg.export import format_for_path, write_export
    from kg.namespaces import Namespaces
    from kg.store import ReadStore

    if query_file is not None and graphs:
        raise SettingsError("--query and --graph both choose what to export: give one")
    if fmt is None and output is not None:
        fmt = format_for_path(output)
        if fmt is None:
            raise SettingsError(f"cannot tell the format from the name {output.name}: give "
                                "--format, or end the name in .ttl, .trig, .nt, .nq, .jsonld "
                                "or .rdf (then .gz to compress)")
    construct = query_file.read_text(encoding="utf-8") if query_file is not None else None
    with ReadStore.open_current(settings.store_dir) as store:
        exported = run_export(store, Namespaces(settings.base_iri), fmt or "turtle", graphs,
                              construct, rdf11)
    write_export(exported, output, sys.stdout.buffer)
    if output is not None:
        click.echo(f"wrote {exported.statements} statements ({fmt}) to {output}", err=True)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--url", default=None,
              help="Where the folder will be published; the description then lists its files.")
@click.pass_obj
def release(settings: Settings, folder: Path, url: str | None) -> None:
    """Write a release folder: data (Turtle, TriG), ontology, shapes, VoID/DCAT, a README
    with how to cite it, and SHA-256 checksums."""
    from kg.namespaces import Namespaces
    from kg.release import write_release
    from kg.store import ReadStore

    with ReadStore.open_current(settings.store_dir) as store:
        written = write_release(store, Namespaces(settings.base_iri), folder, url)
    for name in written.files:
        click.echo(f"wrote {folder / name}")


@cli.command()
@click.argument("entities", nargs=-1, metavar="[ENTITY]...")
@click.option("--kb", "kbs", multiple=True, type=click.Choice(["wikidata", "dbpedia", "geonames"]),
              help="Only this knowledge base (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True,
              help="Proposals shown per entity and knowledge base.")
@click.option("--apply", "write", is_flag=True,
              help="Write into links.yaml the sure proposals (marked *), or those --accept names.")
@click.option("--accept", multiple=True, metavar="ENTITY=KB:ID",
              help="With --apply: write this proposal (repeatable).")
@click.option("--source", default=None,
              help="With --accept: where you verified a proposal made from a name.")
@click.pass_obj
def link(settings: Settings, entities: tuple[str, ...], kbs: tuple[str, ...], limit: int,
         write: bool, accept: tuple[str, ...], source: str | None) -> None:
    """Propose links to Wikidata, DBpedia and GeoNames for entities that have none, ranked, with
    the reason for each, from offline sources; --apply writes accepted ones with their source."""
    from kg.annotations import load_corpus
    from kg.errors import SettingsError
    from kg.link_proposals import accepted, propose
    from kg.links_file import append_links, link_items
    from kg.namespaces import Namespaces
    from kg.vocabulary import Vocabulary

    if accept and not write:
        raise SettingsError("--accept chooses what --apply writes: add --apply")
    vocabulary = Vocabulary.load(Namespaces(settings.base_iri))
    corpus = load_corpus(settings.corpus_dir, vocabulary)
    unknown = [e for e in entities if e not in corpus.entities]
    if unknown:
        raise SettingsError(f"not an entity of the corpus: {', '.join(unknown)}")
    proposals = propose(corpus, vocabulary, entities, kbs)
    if not write:
        _show_proposals(corpus, proposals, limit)
        return
    chosen = accepted(proposals, accept, source, kbs)
    if not chosen:
        click.echo("nothing sure to write; choose with --accept ENTITY=KB:ID")
        return
    items = link_items(chosen, placed={c.entity for c in corpus.coordinates})
    path = append_links(settings.corpus_dir, items, vocabulary)
    for item in items:
        click.echo(f"wrote {item}")
    click.echo(f"{_plural(len(items), 'item')} added to {path}; "
               "run `kg build` to publish")


def _show_proposals(corpus: Corpus, proposals: dict[str, list[Proposal]], limit: int) -> None:
    sure = sum(p.sure for found in proposals.values() for p in found)
    for entity_id, found in proposals.items():
        entity = corpus.entities[entity_id]
        click.echo(f"{entity_id}  {'/'.join(entity.types)} '{entity.label}'")
        for kb in dict.fromkeys(p.kb for p in found):
            for proposal in [p for p in found if p.kb == kb][:limit]:
                mark = "*" if proposal.sure else " "
                close = " (close match)" if proposal.match == "close" else ""
                click.echo(f"  {mark} {proposal.key}{close}  {round(proposal.score * 100)}  "
                           f"{proposal.reason}")
                if proposal.point is not None:
                    click.echo(f"      with the point {proposal.point[0]}, {proposal.point[1]}")
    count = sum(map(len, proposals.values()))
    click.echo(f"{_plural(count, 'proposal')} for {_plural(len(proposals), 'entity', 'entities')}"
               f", {sure} sure (*). `kg link --apply` writes the sure ones; `kg link --apply "
               "--accept ENTITY=KB:ID [--source WHERE-YOU-CHECKED]` writes the one you choose.")


@cli.command()
@click.argument("document")
@click.argument("phrase")
@click.pass_obj
def locate(settings: Settings, document: str, phrase: str) -> None:
    """Print the start offset (code points) of every occurrence of PHRASE in DOCUMENT's text.

    DOCUMENT is a .txt path, or a text file name in the corpus's documents/ folder.
    """
    path = Path(document)
    if not path.exists():
        path = settings.corpus_dir / "documents" / document
    if not path.exists():
        raise click.ClickException(f"no document {document}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{path} is not UTF-8 text (byte {error.start})") from None
    at = text.find(phrase)
    if at == -1:
        raise click.ClickException(f"{phrase!r} does not occur in {path.name}")
    while at != -1:
        line = text.count("\n", 0, at) + 1
        context = " ".join(text[max(0, at - 30) : at + len(phrase) + 30].split())
        click.echo(f"start: {at}  end: {at + len(phrase)}  line {line}: …{context}…")
        at = text.find(phrase, at + 1)


@cli.command()
@click.option("--host", default=None, help="Address to bind (default: KG_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: KG_PORT or 8000).")
@click.option("--workers", type=int, default=None,
              help="gunicorn workers (default: KG_WORKERS or 2).")
@click.option("--backend", default=None, metavar="URL",
              help="Serve from this SPARQL server (its query URL) instead of the embedded "
                   "store (default: KG_BACKEND); push a build there with `kg build --to`.")
@click.option("--dev", is_flag=True, help="Run Flask's development server with its reloader.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None,
          backend: str | None, dev: bool) -> None:
    """Serve the graph over HTTP (SPARQL at /sparql), building the store first if missing."""
    from dataclasses import replace

    from kg.store import current_build

    chosen = {"host": host, "port": port, "workers": workers,
              "backend": Settings.from_env({}, backend=backend).backend}
    settings: Settings = replace(ctx.obj, **{k: v for k, v in chosen.items() if v is not None})
    if settings.backend is not None:
        from kg.backends import backend_of
        from kg.remote import read_remote_manifest

        remote = backend_of(settings)
        assert remote is not None
        build_id = read_remote_manifest(remote).build_id  # fails here, not in every request
        click.echo(f"serving build {build_id} from {remote.query_url}", err=True)
    elif current_build(settings.store_dir) is None:
        # Imported only here: the build's libraries would weigh on gunicorn's master process.
        from kg.build import build as run_build

        click.echo(f"no store in {settings.store_dir}: building it first", err=True)
        click.echo(run_build(settings, progress=_progress).summary(), err=True)
    if not dev and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers count metrics in files here, so /metrics can add up every worker; it must
        # be set before prometheus_client is imported.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kg-metrics-")
    from server.runner import run

    run(settings, dev=dev)


def _plural(count: int, one: str, many: str = "") -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _progress(message: str) -> None:
    click.echo(message, err=True)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn crisiskg errors into a message on stderr and an exit code."""
    try:
        cli.main(args=argv, prog_name="kg", standalone_mode=False)
    except KGError as error:
        click.echo(f"kg: error: {error}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("kg: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
