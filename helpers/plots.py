"""One-call charts for the notebooks; each returns a titled, labelled matplotlib Figure.

Figures are detached from pyplot's registry before they are returned, so a notebook shows
each one exactly once (as the cell's value) and scripts or tests on the Agg backend work.
Each chart is drawn by a ``draw_*`` function on an Axes you give it, so a live view
(``helpers.live``) or a figure of your own with several panels can draw the same chart.
Legends sit to the right of the axes, never over the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

MAX_LEGEND_ENTRIES = 12  # more keys than this: colours only, no legend
MAX_ASSIGNMENT_ROWS = 8  # a live group view keeps its latest changes only
_MEASURE_LABELS = {
    "messages_per_s": "messages per second",
    "mb_per_s": "MB per second",
    "batch_latency_ms": "batch latency (ms)",
}


def offsets_per_partition(topic_details: Any) -> Figure:
    """Bar chart of messages per partition of a topic, labelled with each current offset.

    Takes the ``TopicDetails`` of ``client.get_topic`` (or ``ensure_topic``).
    """
    fig, ax = _figure()
    draw_offsets(ax, topic_details)
    return fig


def draw_offsets(ax: Axes, topic_details: Any) -> None:
    """``offsets_per_partition`` on ``ax``."""
    partitions = sorted(topic_details.partitions, key=lambda p: p.id)
    ids = [p.id for p in partitions]
    bars = ax.bar(ids, [p.messages_count for p in partitions], color="tab:blue")
    labels = [f"offset {p.current_offset}" if p.messages_count else "empty" for p in partitions]
    ax.bar_label(bars, labels=labels, padding=2, fontsize="small")
    _partition_axis(ax, ids)
    _count_axis(ax, "messages")
    ax.set_title(f"Messages per partition of topic '{topic_details.name}'")


def partition_distribution(df: pd.DataFrame, by: str | None = "key") -> Figure:
    """Messages per partition from a ``produce``/``consume`` table.

    With a ``by`` column holding values (by default the "key" of ``produce``), the bars are
    stacked and coloured by that column, showing which keys landed where.
    """
    fig, ax = _figure()
    if by and by in df.columns and df[by].notna().any():
        labelled = df.assign(**{by: df[by].fillna("(none)")})
        table = labelled.groupby(["partition", by]).size().unstack(fill_value=0).sort_index()
        bottom = pd.Series(0, index=table.index)
        for value in table.columns:
            ax.bar(table.index, table[value], bottom=bottom, label=str(value))
            bottom += table[value]
        if len(table.columns) <= MAX_LEGEND_ENTRIES:
            _legend(ax, title=by)
        ids = list(table.index)
    else:
        counts = df.groupby("partition").size().sort_index()
        ax.bar(counts.index, counts.values, color="tab:blue")
        ids = list(counts.index)
    _partition_axis(ax, ids)
    _count_axis(ax, "messages")
    ax.set_title(f"How {len(df)} messages spread over the partitions")
    return fig


def consumer_lag(frame: pd.DataFrame) -> Figure:
    """Consumer progress against the end of each partition.

    ``frame`` has columns ``partition``, ``end_offset`` (the partition's current offset) and
    ``consumer_offset`` (the consumer's stored offset). With a ``time`` column too, it draws
    the lag (end - consumer) of each partition over time; without, one pair of bars per
    partition.
    """
    fig, ax = _figure()
    draw_lag(ax, frame)
    return fig


def draw_lag(ax: Axes, frame: pd.DataFrame) -> None:
    """``consumer_lag`` on ``ax``."""
    lag = frame["end_offset"] - frame["consumer_offset"]
    if "time" in frame.columns:
        for partition, rows in frame.assign(lag=lag).groupby("partition"):
            ax.plot(rows["time"], rows["lag"], marker=".", label=f"partition {partition}")
        ax.set_xlabel("seconds" if pd.api.types.is_numeric_dtype(frame["time"]) else "time")
        _count_axis(ax, "lag (messages behind)")
        ax.set_ylim(bottom=0)
        _legend(ax)
        ax.set_title("Consumer lag over time")
    else:
        ids = list(frame["partition"])
        x = range(len(ids))
        ax.bar([i - 0.2 for i in x], frame["end_offset"], width=0.4, label="partition end")
        bars = ax.bar(
            [i + 0.2 for i in x], frame["consumer_offset"], width=0.4, label="consumer offset"
        )
        ax.bar_label(bars, labels=[f"lag {n}" for n in lag], padding=2, fontsize="small")
        ax.set_xticks(list(x), [str(p) for p in ids])
        ax.set_xlabel("partition")
        _count_axis(ax, "offset")
        _legend(ax)
        ax.set_title("Consumer offset against the end of each partition")


def throughput(results_df: pd.DataFrame, x: str | None = None, y: str = "messages_per_s") -> Figure:
    """Messages per second (or another measured column ``y``) against batch size or time.

    ``x`` defaults to "batch_size" when that column exists, else "time". Against batch size
    both axes are logarithmic: batch sizes and throughput span decades, and a linear axis
    flattens the small batches to zero. An optional ``series`` column draws one line per
    value (e.g. "sync" vs "background"). ``y`` names the y axis: "messages_per_s" is
    throughput; "mb_per_s" and "batch_latency_ms" get their units.
    """
    x = x or ("batch_size" if "batch_size" in results_df.columns else "time")
    fig, ax = _figure()
    has_series = "series" in results_df.columns
    groups = results_df.groupby("series") if has_series else [(None, results_df)]
    for name, rows in groups:
        rows = rows.sort_values(x)
        ax.plot(rows[x], rows[y], marker="o", label=name)
    if x == "batch_size":
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    if has_series:
        _legend(ax)
    ax.set_xlabel(x.replace("_", " "))
    label = _measure_label(y)
    ax.set_ylabel(label)
    what = "Throughput" if y in ("messages_per_s", "mb_per_s") else label[:1].upper() + label[1:]
    ax.set_title(f"{what} by {x.replace('_', ' ')}")
    return fig


def draw_rate(ax: Axes, frame: pd.DataFrame) -> None:
    """Messages per second between samples, on a log axis, from a running count.

    ``frame`` has columns ``time`` (seconds) and ``messages`` (a count that only grows, such
    as a topic's ``messages_count``): each step spans the time between two samples. An
    optional ``label`` column (what was running at a sample, e.g. "batch 10") is written at
    the start of the step where it first appears.
    """
    ax.set_yscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel(_measure_label("messages_per_s"))
    ax.set_title("Throughput as the run progresses")
    if len(frame) < 2:
        return  # a rate needs two samples
    edges = frame["time"].to_numpy()
    rates = (frame["messages"].diff() / frame["time"].diff()).iloc[1:]
    steps = rates.where(rates > 0).to_numpy()  # nothing drawn where nothing arrived
    ax.stairs(steps, edges, baseline=None, color="tab:blue", linewidth=2)
    ax.margins(y=0.25)  # room at the top for the labels
    ax.set_xlim(0, edges[-1])
    if "label" in frame.columns:
        labels = frame["label"].iloc[1:].to_numpy()  # the label of each step
        changed = labels != np.roll(labels, 1)
        changed[0] = True
        for start, label in zip(edges[:-1][changed], labels[changed], strict=True):
            ax.axvline(start, color="lightgrey", linewidth=1, zorder=0)
            ax.annotate(
                label,
                (start, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                va="top",
                fontsize="small",
            )


def draw_segments(ax: Axes, frame: pd.DataFrame) -> None:
    """Segments of each partition over time: steps up as messages fill segments, down when
    the cleaner deletes some.

    ``frame`` has columns ``time`` (seconds), ``partition`` (a label, e.g. the topic's name)
    and ``segments`` (its ``segments_count``).
    """
    for partition, rows in frame.groupby("partition", sort=False):
        ax.step(rows["time"], rows["segments"], where="post", marker=".", label=str(partition))
    _legend(ax, title="partition")
    ax.set_xlabel("seconds")
    _count_axis(ax, "segments")
    ax.set_ylim(bottom=0)
    ax.set_title("Segments per partition (a drop: the cleaner deleted some)")


def retention(before: Mapping[str, Mapping], after: Mapping[str, Mapping]) -> Figure:
    """What the cleaner did to each partition: its segments, and the offsets it still holds.

    ``before`` and ``after`` map a partition's label (e.g. its topic) to a dict with
    "segments", "first offset" (None when empty) and "last offset". Left: segments before
    and after. Right: the range of offsets kept; the cleaner only ever cuts the start.
    """
    fig, (segments_ax, offsets_ax) = plt.subplots(1, 2, figsize=(7, 3.6), layout="constrained")
    plt.close(fig)
    labels = list(before)
    moments = (("before", before, "tab:grey", -0.2), ("after the cleaner", after, "tab:blue", 0.2))
    for when, states, colour, shift in moments:
        y = [i + shift for i in range(len(labels))]
        counts = [states[label]["segments"] for label in labels]
        bars = segments_ax.barh(y, counts, height=0.4, color=colour, label=when)
        segments_ax.bar_label(bars, padding=2, fontsize="small")
        ranges = [(states[label]["first offset"], states[label]["last offset"]) for label in labels]
        kept = offsets_ax.barh(
            y,
            [0 if first is None else last - first + 1 for first, last in ranges],
            left=[first or 0 for first, _ in ranges],
            height=0.4,
            color=colour,
        )
        texts = ["empty" if first is None else f"{first}-{last}" for first, last in ranges]
        offsets_ax.bar_label(kept, labels=texts, padding=2, fontsize="small")
    for ax in (segments_ax, offsets_ax):
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)  # the first partition on top, before above after
    offsets_ax.tick_params(labelleft=False)
    offsets_ax.set_xlim(0, 1.45 * max(state["last offset"] for state in before.values()) + 1)
    offsets_ax.set_xlabel("offsets kept (first-last)")
    segments_ax.set_xlabel("segments")
    segments_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    segments_ax.margins(x=0.15)
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    fig.suptitle("What the cleaner deleted: whole segments, from the start")
    return fig


def _measure_label(column: str) -> str:
    """Axis label of a measured column: known units spelled out, else the column's words."""
    return _MEASURE_LABELS.get(column, column.replace("_", " "))


def group_assignment(snapshots: Mapping[str, Any]) -> Figure:
    """Which member owns which partition, one row per snapshot (e.g. before/after).

    ``snapshots`` maps a label to ``{member: [partition, ...]}`` or to the
    ``ConsumerGroupDetails`` of ``client.get_consumer_group``.
    """
    fig, ax = _figure(height=0.9 * len(snapshots) + 1.6)
    draw_assignment(ax, snapshots)
    return fig


def draw_assignment(ax: Axes, snapshots: Mapping[str, Any]) -> None:
    """``group_assignment`` on ``ax``; only the last MAX_ASSIGNMENT_ROWS snapshots."""
    labels = list(snapshots)[-MAX_ASSIGNMENT_ROWS:]
    owners = {label: _owners(snapshots[label]) for label in labels}
    partitions = sorted({p for owned in owners.values() for p in owned})
    members = sorted({m for owned in owners.values() for m in owned.values()}, key=str)
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(members)}
    for row, label in enumerate(labels):
        for column, partition in enumerate(partitions):
            member = owners[label].get(partition)
            colour = colours[member] if member is not None else "whitesmoke"
            ax.add_patch(plt.Rectangle((column, row), 0.95, 0.9, color=colour))
            ax.text(
                column + 0.47,
                row + 0.45,
                "-" if member is None else str(member),
                ha="center",
                va="center",
                fontsize="small",
            )
    ax.set_xlim(0, max(1, len(partitions)))
    ax.set_ylim(max(1, len(labels)), 0)
    ax.set_xticks([c + 0.47 for c in range(len(partitions))], [str(p) for p in partitions])
    ax.set_yticks([r + 0.45 for r in range(len(labels))], labels)
    ax.set_xlabel("partition")
    ax.set_title("Partition owners in the consumer group (cell text: member)")


def _owners(snapshot: Any) -> dict[int, Any]:
    """partition -> member, from a mapping or from ConsumerGroupDetails."""
    if hasattr(snapshot, "members"):
        snapshot = {m.id: m.partitions for m in snapshot.members}
    return {p: member for member, parts in snapshot.items() for p in parts}


def draw_counts(ax: Axes, counts: Mapping[str, int], title: str = "Counts") -> None:
    """Named counts as horizontal bars, each labelled with its number, first on top."""
    names = list(counts)[::-1]
    bars = ax.barh(names, [counts[name] for name in names], color="tab:blue")
    ax.bar_label(bars, padding=2, fontsize="small")
    ax.set_xticks([])  # each bar carries its number
    ax.margins(x=0.25)
    ax.tick_params(axis="y", labelsize="small")
    ax.set_title(title)


def payload_formats(results: pd.DataFrame) -> Figure:
    """Payload formats side by side: bytes per message, and microseconds per message to
    encode and to decode (stacked).

    ``results`` has one row per format: columns ``format``, ``bytes_per_message``,
    ``encode_us`` and ``decode_us``.
    """
    fig, (size_ax, time_ax) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    plt.close(fig)
    names = list(results["format"])
    bars = size_ax.bar(names, results["bytes_per_message"], color="tab:blue")
    size_ax.bar_label(bars, fmt="%.0f", padding=2, fontsize="small")
    size_ax.margins(y=0.15)
    size_ax.set_ylabel("bytes per message")
    size_ax.set_title("Size")
    time_ax.bar(names, results["encode_us"], label="encode", color="tab:orange")
    time_ax.bar(names, results["decode_us"], bottom=results["encode_us"], label="decode",
                color="tab:green")
    time_ax.set_ylabel("microseconds per message")
    time_ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    time_ax.set_title("Time (this machine, Python)")
    for ax in (size_ax, time_ax):
        ax.tick_params(axis="x", labelsize="small")
    fig.suptitle("The same records in each payload format")
    return fig


def byte_layout(parts: pd.DataFrame, title: str = "Where the bytes go") -> Figure:
    """A strip of bytes coloured by what they hold, e.g. a polled batch.

    ``parts`` has one row per contiguous range: columns ``start`` (byte offset),
    ``length`` and ``part`` (what the range holds; one colour and legend entry per part).
    """
    fig, ax = _figure(height=2.2)
    kinds = list(dict.fromkeys(parts["part"]))
    colours = {kind: plt.get_cmap("tab10")(i % 10) for i, kind in enumerate(kinds)}
    total = int((parts["start"] + parts["length"]).max())
    for row in parts.itertuples():
        ax.barh(0, row.length, left=row.start, color=colours[row.part], edgecolor="white",
                linewidth=0.5)
        if row.length >= total / 25:  # wide enough to carry its size
            ax.text(row.start + row.length / 2, 0, f"{row.length} B", ha="center",
                    va="center", fontsize="small", color="white")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[kind]) for kind in kinds]
    ax.legend(handles, kinds, ncol=min(len(kinds), 4), fontsize="small",
              loc="upper center", bbox_to_anchor=(0.5, -0.35))
    ax.set_yticks([])
    ax.set_xlim(0, total)
    ax.set_xlabel("byte")
    ax.set_title(title)
    return fig


def _figure(height: float = 3.6) -> tuple[Figure, Axes]:
    fig, ax = plt.subplots(figsize=(7, height), layout="constrained")
    plt.close(fig)  # the caller displays it; pyplot must not show it a second time
    return fig, ax


def _legend(ax: Axes, title: str | None = None) -> None:
    """The legend to the right of the axes (constrained layout makes room): never on data."""
    ax.legend(title=title, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))


def _partition_axis(ax: Axes, ids: Sequence[int]) -> None:
    ax.set_xticks(list(ids), [str(i) for i in ids])
    ax.set_xlabel("partition")


def _count_axis(ax: Axes, label: str) -> None:
    """Whole numbers on the y axis, with room above the bars for their labels."""
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(y=0.12)
    ax.set_ylabel(label)
