"""Shards of a member-scoped load: the members (post authors) split into `count` stable groups, so a night's reading
of LinkedIn member analytics or X metrics runs as several loads at once — on several Celery workers — each its own
transaction with its own `raw._loads` row, and a failed shard is retried alone.

A member always falls in the same shard (a hash of the id, not of the night), so a member's token, daily quota and
rate-limit windows are only ever used by one shard of a night. Posts whose author is unknown share one shard.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """Shard `index` (0-based) of `count`."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}: the index must be in 0..{self.count - 1}")

    def owns(self, member_id: str) -> bool:
        """Whether the member (a post author's employee id, '' when unknown) belongs to this shard."""
        if self.count == 1:
            return True
        digest = hashlib.sha256(member_id.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def share_of(self, remaining: int) -> int:
        """This shard's part of a budget the shards spend at once (an app's daily quota): no shard takes more than
        an equal part, so shards running together never spend more than `remaining` between them."""
        return remaining // self.count

    @property
    def label(self) -> str:
        return f"{self.index + 1}/{self.count}"


WHOLE = Shard()
