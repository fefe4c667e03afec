"""Checking an archive, the files: every file's sha256 against the manifest, the event log read
line by line, every document version's sha256 (part of congress.records.verify)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any


class Unreadable(Exception):
    """A file of the archive is missing or not JSON: the archive cannot be checked (verify, recount)."""


def load_json(files: Mapping[str, bytes], name: str) -> Any:
    """One JSON file of the archive; Unreadable names it when it is missing or broken."""
    if name not in files:
        raise Unreadable(f"file {name} missing: not an archive of a congress")
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unreadable(f"file {name} is not valid JSON ({exc})") from None



class FilesCheck:
    """The _Checker's checks of the archive's files (congress.records.verify)."""

    # The host's (_Checker's) attributes, declared for the type checker.
    files: Mapping[str, bytes]
    problem: Callable[[str], None]

    # -- files ----------------------------------------------------------------------------------
    def check_manifest(self, manifest: dict[str, Any]) -> None:
        listed = manifest.get("files") or {}
        for name, entry in sorted(listed.items()):
            data = self.files.get(name)
            if data is None:
                self.problem(f"file {name} missing")
                continue
            computed = hashlib.sha256(data).hexdigest()
            if computed != entry.get("sha256"):
                self.problem(f"file {name}: sha256 does not match the manifest (listed {entry.get('sha256')}, "
                             f"computed {computed})")
        for name in sorted(set(self.files) - set(listed) - {"manifest.json"}):
            self.problem(f"file {name} is not listed in the manifest")

    def read_events(self) -> list[dict[str, Any]]:
        if "events.jsonl" not in self.files:
            raise Unreadable("file events.jsonl missing")
        events = []
        for number, line in enumerate(self.files["events.jsonl"].decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except ValueError:
                self.problem(f"events.jsonl line {number} is not valid JSON")
        return events

    # -- documents -------------------------------------------------------------------------------
    def check_documents(self) -> None:
        if "documents.json" not in self.files:
            self.problem("file documents.json missing")
            return
        for document in load_json(self.files, "documents.json"):
            for version in document["versions"]:
                data = self.files.get(version["file"])
                where = f"document {document['id']} version {version['version']}"
                if data is None:
                    self.problem(f"{where}: file {version['file']} missing")
                elif hashlib.sha256(data).hexdigest() != version["sha256"]:
                    self.problem(f"{where}: sha256 stored {version['sha256']}, computed "
                                 f"{hashlib.sha256(data).hexdigest()}")

