"""Where the sandbox answers differently from the recorded real server, and why.

Short, explicit lists:

- ``DELIBERATE``: steps that differ on purpose. Each says why and quotes a phrase that
  docs/architecture.md contains, so the difference is documented where a reader looks.
  The replay fails if such a step stops differing (the entry went stale).
- ``RELEASE_SKEW_OPTION_KEYS``: the recordings come from Iggy's newest server source,
  ``server-0.9.0-edge.5``, a few weeks older than the 0.9.0 release whose SDK the course
  uses. The release replaced the topic option ``enforce_fsync`` with ``durability`` and
  ``consumer_offset_durability``; the sandbox follows the release. These keys are left out
  of option maps and option catalogs on both sides before comparing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deliberate:
    scenario: str
    step: str
    reason: str
    documented_as: str  # a phrase docs/architecture.md contains


_RELEASE = ("server-0.9.0-edge.5 refuses the durability options the 0.9.0 SDK always sends "
            "with create_topic; the 0.9.0 release, which the course targets, accepts them")

_COUNTS = ("server-0.9.0-edge.5 keeps counting the messages of a removed partition or a "
           "deleted topic until the stream goes; the 0.9.0 release lowers the counts at once, "
           "as the 0.9.0 SDK's own tests expect, and so does the sandbox")

DELIBERATE: tuple[Deliberate, ...] = (
    Deliberate("topic_created_by_the_sdk", "create a topic with the SDK's create_topic",
               _RELEASE, "**Topic durability options.**"),
    Deliberate("topic_created_by_the_sdk", "list the topics", _RELEASE,
               "**Topic durability options.**"),
    Deliberate("sdk_over_http", "create a topic with the SDK's create_topic", _RELEASE,
               "**Topic durability options.**"),
    Deliberate("topics_over_tcp", "the message count after removing a partition", _COUNTS,
               "**Counts after a removal.**"),
    Deliberate("topics_over_tcp", "the server's counts after deleting a topic", _COUNTS,
               "**Counts after a removal.**"),
)

RELEASE_SKEW_OPTION_KEYS = frozenset({"enforce_fsync", "durability",
                                      "consumer_offset_durability"})

def deliberate_steps(scenario: str) -> dict[str, Deliberate]:
    return {entry.step: entry for entry in DELIBERATE if entry.scenario == scenario}


def without_release_skew(value: Any) -> Any:
    """``value`` without the option keys only one side of the release skew knows: out of
    ``options``/``derived_options`` maps and out of option catalogs (``describe_options``)."""
    if isinstance(value, dict):
        return {key: (_drop_keys(item) if key in ("options", "derived_options")
                      else without_release_skew(item))
                for key, item in value.items()}
    if isinstance(value, list):
        return [without_release_skew(item) for item in value
                if not (isinstance(item, dict) and "description" in item
                        and item.get("key") in RELEASE_SKEW_OPTION_KEYS)]
    return value


def _drop_keys(options: Any) -> Any:
    if not isinstance(options, dict):
        return options
    return {key: item for key, item in options.items() if key not in RELEASE_SKEW_OPTION_KEYS}
