"""Shards of the members (ingestion/shards.py): a partition, stable, with an equal part of a shared budget each."""

from __future__ import annotations

import pytest

from ingestion.shards import WHOLE, Shard

MEMBERS = [f"e-{n:04d}" for n in range(1, 501)] + [""]


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_every_member_falls_in_exactly_one_shard_and_the_shards_are_not_lopsided(count):
    shards = [Shard(index, count) for index in range(count)]
    owners = {member: [shard for shard in shards if shard.owns(member)] for member in MEMBERS}
    assert all(len(found) == 1 for found in owners.values())
    sizes = [sum(1 for found in owners.values() if found == [shard]) for shard in shards]
    assert min(sizes) >= 0.6 * len(MEMBERS) / count  # a hash, not a skewed rule


def test_a_member_stays_in_its_shard_whatever_else_changes():
    assert [Shard(i, 4).owns("e-0042") for i in range(4)] == [Shard(i, 4).owns("e-0042") for i in range(4)]
    assert WHOLE.owns("anyone") and WHOLE.label == "1/1"


def test_shards_running_together_never_spend_more_than_the_budget_left():
    assert sum(Shard(i, 3).share_of(100) for i in range(3)) <= 100
    assert Shard(0, 2).share_of(1) == 0


@pytest.mark.parametrize("index, count", [(2, 2), (-1, 2), (0, 0)])
def test_an_index_outside_the_shards_is_refused(index, count):
    with pytest.raises(ValueError, match="index must be in"):
        Shard(index, count)
