from __future__ import annotations

import uuid

from prakerja.db import unit_of_work
from prakerja.jobs import app
from prakerja.notifications import service


@app.task(name="notifications.deliver", retry=5)
def deliver(message_id: str) -> None:
    with unit_of_work() as session:
        service.deliver(session, uuid.UUID(message_id))
