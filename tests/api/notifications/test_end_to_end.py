"""A real loopback HTTP receiver gets a signed delivery from the running sender."""

from __future__ import annotations

import json
import time

from api.notifications.signing import verify_signature
from tests.api.conftest import Api
from tests.api.notifications.conftest import (
    Receiver,
    cancel_and_record,
    register,
    runtime,
    subscribe,
)


def test_loopback_receiver_gets_a_signed_delivery_end_to_end(
    notify_api: Api, receiver: Receiver
) -> None:
    seller = notify_api.party("seller", "DE111")
    hook = subscribe(notify_api, seller, receiver.url, ["document.status_changed"])
    document_id = register(notify_api, seller)
    notifications = runtime(notify_api)
    notifications.settings = notifications.settings.model_copy(
        update={"background_delivery": True}
    )
    notifications.start()

    cancel_and_record(notify_api, seller, document_id, "withdrawn")
    assert receiver.received.wait(10), "no delivery within 10 s"
    notifications.stop()

    ((headers, body),) = receiver.requests
    event = json.loads(body)
    assert verify_signature(
        hook["secret"],
        headers["Receivables-Signature"],
        body,
        now=int(time.time()),
    )
    assert headers["Receivables-Event-Id"] == event["id"]
    assert event["document_id"] == str(document_id)
    assert (event["from_status"], event["to_status"], event["reason"]) == (
        "registered",
        "cancelled",
        "withdrawn",
    )
    feed = notify_api.client.get("/v1/events", headers=seller.headers).json()
    assert event in feed["events"]
