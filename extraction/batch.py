"""Extract every stored Federal Register document that has not been extracted yet (the pipeline's
``extract`` step). Results go to ``<workspace>/extractions/<document>.v<version>.json``, one file per
stored version, written atomically; a version already extracted is skipped, so re-runs are cheap."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .document import ExtractError, extract_bytes


@dataclass
class BatchResult:
    extracted: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"{len(self.extracted)} extracted, {self.skipped} already extracted, {len(self.failed)} failed"
                + "".join(f"; {d}: {why}" for d, why in self.failed[:3]))


def extract_stored(workspace_root: Path) -> BatchResult:
    import datetime as dt

    from crawler.docstore import DocumentStore

    out = workspace_root / "extractions"
    res = BatchResult()
    db = workspace_root / "documents.db"
    if not db.exists():
        return res
    out.mkdir(exist_ok=True)
    with DocumentStore(db) as store:
        for doc in store.latest("fr"):
            if doc.metadata.get("format") != "fr-xml":
                continue
            target = out / f"{doc.doc_id}.v{doc.version}.json"
            if target.exists():
                res.skipped += 1
                continue
            api = doc.metadata.get("api") or {}
            pub = None
            try:
                pub = dt.date.fromisoformat(str(api.get("publication_date")))
            except ValueError:
                pub = None
            try:
                results = extract_bytes(store.get_blob(doc.sha256), f"{doc.doc_id} (stored, v{doc.version})", pub)
            except ExtractError as exc:
                res.failed.append((doc.doc_id, str(exc)))
                continue
            payload = [r.to_json() for r in results]
            fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload[0] if len(payload) == 1 else payload, f, indent=2, ensure_ascii=False)
            os.replace(tmp, target)
            res.extracted.append(doc.doc_id)
    return res
