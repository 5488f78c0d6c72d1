"""`taxii-hub convert` and `taxii-hub validate`: the converters on the command line.

Neither needs a server or a database: `convert` reads incident records (JSON, JSON Lines), `.eml` and Outlook
`.msg` files (the converters' one format registry decides what a file is) and writes one STIX bundle;
`validate` runs stix2-validator (strict) and the hub's own publication checks.
Bad input is reported as one line per problem (`taxii-hub: <file>: <field>: <message>`) on stderr, the batch
goes on, and the exit status is 1 if anything failed. Never a traceback.
"""

from __future__ import annotations

import glob
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from converters import (
    ConversionError,
    ConversionOptions,
    RecordLimits,
    audit_bundle,
    bundle_bytes,
    formats,
    merge_bundles,
    record_to_bundle,
    stix_validator_messages,
)
from converters.vetting import Summary

from . import one_line_errors
from .progress import Step, progress

_FORMATS = tuple(f.name for f in formats.FORMATS if f.name != "stix")
_GLOB_CHARS = frozenset("*?[")


def _report(*parts: object) -> None:
    line = ": ".join(str(part) for part in parts)
    click.echo("taxii-hub: " + " ".join(line.split()), err=True)


def expand_inputs(inputs: tuple[str, ...], suffixes: tuple[str, ...]) -> Iterator[tuple[str, Path | None]]:
    """(name as given or found, path) per input file; path None when the name matched nothing."""
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            if not found:
                yield given, None
            yield from ((str(p), p) for p in found)
        elif path.exists():
            yield given, path
        elif _GLOB_CHARS & set(given):
            matches = sorted(glob.glob(given, recursive=True))
            if not matches:
                yield given, None
            for match in matches:
                yield from expand_inputs((match,), suffixes)
        else:
            yield given, None


def _convert_one(name: str, path: Path, requested: str, options: ConversionOptions,
                 summary: Summary, limits: RecordLimits) -> list[dict[str, Any]]:
    data = path.read_bytes()
    fmt = formats.detect(data, name) if requested == "auto" else formats.by_name(requested)
    records = formats.read_report(data, name, fmt, record_limits=limits)
    return [record_to_bundle(record, options, summary) for record in records]


@click.command("convert")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--format", "input_format", type=click.Choice(["auto", *_FORMATS]), default="auto",
              show_default=True, help="Input format; auto decides by file suffix, then by content.")
@click.option("--summary", "show_summary", is_flag=True,
              help="Print on stderr what was made and what was held back from indicators, and why.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the bundle here instead of stdout.")
@click.option("--pretty", is_flag=True, help="Indent the JSON.")
@click.pass_context
@one_line_errors
def convert(ctx: click.Context, inputs: tuple[str, ...], input_format: str, show_summary: bool,
            output: Path | None, pretty: bool) -> None:
    """Convert incident records, .eml and .msg files (files, directories, globs) into one STIX 2.1 bundle."""
    from ..app import record_limits

    settings = ctx.obj.settings()
    conversion = settings.conversion
    options = ConversionOptions(id_key=conversion.id_key, hub_identity_name=conversion.hub_identity_name)
    limits = record_limits(settings.limits)  # the hub's [limits], so a file is refused here as it would be there
    suffixes = tuple(s for f in formats.FORMATS if f.name in ("auto", input_format) or input_format == "auto"
                     for s in f.suffixes if f.name != "stix")
    bundles: list[dict[str, Any]] = []
    summary = Summary()
    items = list(expand_inputs(inputs, suffixes))
    with progress("convert", len(items)) as step:
        failed = _convert_all(items, input_format, options, bundles, step if len(items) > 1 else _silent, summary,
                              limits)
    if show_summary:
        for line in summary.lines():
            click.echo("taxii-hub: summary: " + line, err=True)
    if bundles:
        data = bundle_bytes(merge_bundles(bundles, options), pretty=pretty) + b"\n"
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            output.write_bytes(data)
    if failed:
        raise click.exceptions.Exit(1)


def _silent(name: str, total: int | None = None) -> None:
    pass


def _convert_all(items: list[tuple[str, Path | None]], input_format: str, options: ConversionOptions,
                 bundles: list[dict[str, Any]], step: Step, summary: Summary, limits: RecordLimits) -> int:
    """Convert each input into `bundles`, reporting failures one line each; how many failed."""
    failed = 0
    for name, path in items:
        step(name)
        if path is None:
            _report(name, "(file)", "no such file or directory")
            failed += 1
            continue
        try:
            bundles.extend(_convert_one(name, path, input_format, options, summary, limits))
        except ConversionError as exc:
            _report(exc)
            failed += 1
        except OSError as exc:
            _report(name, "(file)", exc.strerror or exc)
            failed += 1
        except Exception as exc:  # noqa: BLE001 - a converter bug must not hide the rest of the batch
            _report(name, "(internal)", f"{type(exc).__name__}: {exc}")
            failed += 1
    return failed


@click.command("validate")
@click.argument("bundles", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print each bundle's verdict and problems as JSON.")
@one_line_errors
def validate(bundles: tuple[str, ...], as_json: bool) -> None:
    """Check bundles with stix2-validator (strict) and the hub's publication rules."""
    failed = 0
    verdicts = []
    for name, path in expand_inputs(bundles, (".json",)):
        problems = ["(file): no such file or directory"] if path is None else _problems(path)
        verdicts.append({"file": name, "valid": not problems, "problems": problems})
        for problem in problems:
            _report(name, problem)
        if problems:
            failed += 1
        elif not as_json:
            click.echo(f"{name}: valid")
    if as_json:
        click.echo(json.dumps(verdicts, indent=2, ensure_ascii=False))
    if failed:
        raise click.exceptions.Exit(1)


def _problems(path: Path) -> list[str]:
    try:
        bundle = json.loads(path.read_bytes())
    except OSError as exc:
        return [f"(file): {exc.strerror or exc}"]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [f"(json): invalid JSON: {exc}"]
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        return ["type: not a STIX bundle"]
    problems = [f"stix2-validator: {message}" for message in stix_validator_messages(bundle)]
    problems += [f"hub rules: {finding}" for finding in audit_bundle(bundle)]
    return problems


def register(group: click.Group) -> None:
    group.add_command(convert)
    group.add_command(validate)


__all__ = ["register"]
