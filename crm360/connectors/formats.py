"""Readers for each source's native export format — parsing only, no meaning.

Every reader yields `(payload_json_text | None, error | None)` per record, streaming: memory
stays flat whatever the file size. What a record means (keys, types, accounts) is decided in
SQL (`crm_raw.land_staged`, `crm.reconcile`).

* CSV (Salesforce Bulk API 2.0 query results, CLM export): header = field names, empty cell
  = null; a line with the wrong number of fields is yielded as an error row (kept, rejected).
* JSON documents, streamed with ijson: Salesforce REST query `{"records": [...]}`, Zendesk
  pages `{"tickets"|"organizations"|"users"|"comments": [...], ...}`, Stripe list objects
  `{"object": "list", "data": [...]}`, or a bare top-level array. Top-level scalars (e.g.
  `after_cursor`, `end_of_stream`, `ticket_id`) are returned as the file's context.
* NDJSON (Stripe): one JSON object per line, passed through unparsed (SQL validates it).
* `.gz` (detected by its magic bytes, also on stdin) and `-` for stdin.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ijson

# The array that holds the records in a JSON document, per (source, object).
ARRAY_KEYS = {
    "salesforce": "records",
    "stripe": "data",
    ("zendesk", "tickets"): "tickets",
    ("zendesk", "organizations"): "organizations",
    ("zendesk", "users"): "users",
    ("zendesk", "ticket_comments"): "comments",
}
ENVELOPE_KEYS = {"after_cursor", "before_cursor", "end_of_stream", "has_more", "next_page", "previous_page",
                 "count", "ticket_id", "done", "totalSize", "nextRecordsUrl", "after_url", "url"}
CHUNK = 1 << 20


class SourceFileError(Exception):
    """The file cannot be read at all (missing, not gzip/UTF-8, not the expected JSON shape)."""


@dataclass
class FileContext:
    """Per-file facts passed to crm_raw.land_staged (the envelope, the comments' ticket)."""

    name: str
    format: str = "?"
    envelope: dict = field(default_factory=dict)

    def as_context(self) -> dict:
        ctx = {k: v for k, v in self.envelope.items() if k in ("after_cursor", "ticket_id")}
        if "ticket_id" not in ctx:
            m = re.search(r"tickets?[/_-]?(\d+)", self.name)
            if m:
                ctx["ticket_id"] = int(m.group(1))
        return ctx


def array_key(source: str, obj: str) -> str:
    return ARRAY_KEYS.get((source, obj)) or ARRAY_KEYS.get(source) or "data"


def open_binary(path: str) -> io.BufferedReader:
    """A peekable binary stream of the (decompressed) file; '-' is stdin."""
    try:
        raw = sys.stdin.buffer if path == "-" else open(path, "rb", buffering=CHUNK)  # noqa: SIM115
    except OSError as e:
        raise SourceFileError(f"cannot open {path}: {e.strerror or e}") from e
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw, CHUNK)
    if raw.peek(2)[:2] == b"\x1f\x8b":
        return io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), CHUNK)
    return raw


def detect(stream: io.BufferedReader, source: str, obj: str) -> str:
    head = stream.peek(65536)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return "empty"
    if text[:1] == b"[":
        return "json"
    if text[:1] != b"{":
        return "csv"
    nl = text.find(b"\n")
    if nl < 0:
        return "json"
    try:
        first = json.loads(text[:nl])
    except ValueError:
        return "json"  # a pretty-printed document
    if isinstance(first, dict) and (array_key(source, obj) in first or first.get("object") == "list"):
        return "json"
    return "ndjson"


def read_records(path: str, source: str, obj: str, ctx: FileContext) -> Iterator[tuple[str | None, str | None]]:
    stream = open_binary(path)
    try:
        fmt = detect(stream, source, obj)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise SourceFileError(f"cannot read {path}: {e}") from e
    ctx.format = fmt
    readers = {"csv": _csv, "json": _json_document, "ndjson": _ndjson, "empty": lambda *a: iter(())}
    try:
        yield from readers[fmt](stream, source, obj, ctx)
    except (OSError, EOFError, gzip.BadGzipFile, ijson.JSONError, UnicodeDecodeError) as e:
        raise SourceFileError(f"cannot read {path} ({fmt}): {e}") from e
    finally:
        if path != "-":
            stream.close()


def _csv(stream, source, obj, ctx):
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    width = len(header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield json.dumps({"_line": reader.line_num}), f"malformed CSV line {reader.line_num}: {e}"
            continue
        if not row or (len(row) == 1 and row[0] == ""):
            continue
        if len(row) != width:
            yield (json.dumps({"_line": reader.line_num, "_fields": row}, ensure_ascii=False),
                   f"malformed CSV line {reader.line_num}: expected {width} fields, got {len(row)}")
            continue
        yield json.dumps({k: (v if v != "" else None) for k, v in zip(header, row, strict=True)},
                         ensure_ascii=False), None


def _ndjson(stream, source, obj, ctx):
    for n, raw in enumerate(stream, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield json.dumps({"_line": n}), f"line {n}: invalid UTF-8"
            continue
        if "\x00" in text:
            yield json.dumps({"_line": n}), f"line {n}: NUL byte"
            continue
        yield text, None


def _json_document(stream, source, obj, ctx):
    key = array_key(source, obj)
    item_prefixes = {f"{key}.item", "item"}
    builder = None
    depth = 0
    found = False
    for prefix, event, value in ijson.parse(stream, use_float=True):
        if builder is not None:
            builder.event(event, value)
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
                if depth == 0:
                    yield json.dumps(builder.value, ensure_ascii=False, default=str), None
                    builder = None
            continue
        if prefix in item_prefixes:
            found = True
            if event in ("start_map", "start_array"):
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 1
            elif event not in ("end_array",):
                yield json.dumps(value, default=str), None
        elif prefix == key or (prefix == "" and event == "start_array"):
            found = True
        elif prefix in ENVELOPE_KEYS and event in ("string", "number", "boolean", "null"):
            ctx.envelope[prefix] = value
    if not found:
        raise SourceFileError(f"{ctx.name}: no \"{key}\" array in the JSON document "
                              f"(expected the {source} {obj} export shape)")


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else Path(path).name
