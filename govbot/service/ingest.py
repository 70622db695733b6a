"""Events that arrive by other paths than the webhook receiver, into the same inbox."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine

from govbot.forges import registry
from govbot.store import inbox


def record_stream_event(engine: Engine, event: dict[str, Any]) -> bool:
    """Put one Gerrit stream event in the inbox; its id is the hash of its canonical JSON,
    and its event key the same as the webhook's for that event (either path stores it once)."""
    body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
    delivery_id = hashlib.sha256(body).hexdigest()
    kind = str(event.get("type", ""))
    key = registry.event_key("gerrit", kind, event)
    with engine.begin() as conn:
        return inbox.record(conn, "gerrit", delivery_id, kind, None, body, key)
