"""Notifications: an event feed of document status changes, and signed webhooks.

See ``docs/notifications.md`` for the event shapes, the signature scheme, the retry
schedule and the cursor semantics; :mod:`api.notifications.service` for how events
are captured without ever being missed or repeated by a poller.
"""
