"""Curator decisions on duplicate candidates: which pairs are still open, and merging a pair.

`geo.curation.duplicates` finds candidates and `geo.curation.merge` says how two records
combine; this module applies a decision to the store, so merging is one tested function rather
than page code: the merged record is saved over the kept one (with its version checked), the
other is deleted (reversibly) with a reason naming the kept one, and the decision is remembered
so the pair is not asked again.
"""

from __future__ import annotations

import pandas as pd

from geo.curation.duplicates import DuplicateDecision, within_batch_duplicates
from geo.curation.merge import merge_events
from geo.store.base import EventStore
from geo.validation import validate_frame


def open_candidates(events: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Candidate pairs among stored events that no curator has decided on yet, best first."""
    pairs = within_batch_duplicates(events)
    if pairs.empty or decisions.empty:
        return pairs
    a_col, b_col = pairs.columns[0], pairs.columns[1]
    decided = {
        tuple(sorted(p)) for p in zip(decisions["event_a"], decisions["event_b"], strict=True)
    }
    keep = [
        tuple(sorted((a, b))) not in decided
        for a, b in zip(pairs[a_col], pairs[b_col], strict=True)
    ]
    return pairs[keep].reset_index(drop=True)


def decide(
    store: EventStore,
    keep_id: str,
    other_id: str,
    decision: DuplicateDecision,
    *,
    editor: str,
    reason: str = "",
) -> None:
    """Apply a decision: merge `other_id` into `keep_id`, or record keep/link (atomically)."""
    with store.atomic():
        _decide(store, keep_id, other_id, decision, editor=editor, reason=reason)


def _decide(
    store: EventStore,
    keep_id: str,
    other_id: str,
    decision: DuplicateDecision,
    *,
    editor: str,
    reason: str,
) -> None:
    if decision == "merge":
        kept, version = store.get(keep_id)
        other, other_version = store.get(other_id)
        merged = validate_frame(pd.DataFrame([merge_events(kept, other)])).iloc[0]
        why = reason or f"merged {other_id} into {keep_id}"
        store.save(merged, expected_version=version, editor=editor, reason=why)
        store.delete(
            other_id,
            expected_version=other_version,
            editor=editor,
            reason=f"merged into {keep_id}" + (f": {reason}" if reason else ""),
        )
    store.record_decision(keep_id, other_id, decision, editor=editor, reason=reason)
