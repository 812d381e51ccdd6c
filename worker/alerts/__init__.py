"""Alerts: rendering (``render``), destinations (``destinations``), the outbox (``enqueue``,
``deliver_due``, ``deliver_digests``, ``forget_removed``), idempotency keys (``keys``) and the
apprise notifier (``Notifier``).

Only ``worker.alerts.notifier`` imports apprise. The delivery guarantee is stated in
``worker.alerts.delivery``.
"""
from __future__ import annotations

from worker.alerts.config import CONSOLE_ID, Destination, destinations
from worker.alerts.delivery import (DeliveryReport, backoff_seconds, deliver_digests, deliver_due, enqueue,
                                    forget_removed, lease_seconds, notify_test, ops_alert, ops_key, removed_note,
                                    waiting_for_removed)
from worker.alerts.notifier import Notifier, PermanentDeliveryError
from worker.alerts.render import render, render_digest

ops_payload = ops_alert  # the name the pipeline uses

__all__ = ["CONSOLE_ID", "DeliveryReport", "Destination", "Notifier", "PermanentDeliveryError",
           "backoff_seconds", "deliver_digests", "deliver_due", "destinations", "enqueue", "forget_removed",
           "lease_seconds", "notify_test", "ops_alert", "ops_key", "ops_payload", "removed_note", "render",
           "render_digest", "waiting_for_removed"]
