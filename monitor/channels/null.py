"""A notifier that sends nothing and remembers what it was given: `digest preview` and tests."""

from __future__ import annotations

from monitor.models import DeliveryResult, Digest, Message

__all__ = ["RecordingNotifier"]


class RecordingNotifier:
    """Records `(message, digest, idempotency_key)` for every send and reports success."""

    def __init__(self) -> None:
        self.sent: list[tuple[Message, Digest, str]] = []

    async def send(
        self, message: Message, digest: Digest, *, idempotency_key: str
    ) -> DeliveryResult:
        self.sent.append((message, digest, idempotency_key))
        return DeliveryResult(True, "null: recorded, not sent")
