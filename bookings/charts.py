"""Geometry of the reports' bar charts, drawn as inline SVG by ``templates/bookings/partials/``.

Pure arithmetic on figures already computed: coordinates are in the SVG's own units (its
``viewBox``), so the browser scales the chart to the page.
"""

from dataclasses import dataclass
from decimal import Decimal

WIDTH = 480  # a bar chart sits in half the page
COLUMN_CHART_WIDTH = 720
ROW_HEIGHT = 24
BAR_GAP = 4
LABEL_WIDTH = 132  # "Loft with a lon…" at the 15px a phone draws it (studio.css)
VALUE_ROOM = 64  # "100.0%" at 15px
COLUMN_CHART_HEIGHT = 240
AXIS_ROOM = 24
TOP_ROOM = 10  # keeps the top tick's label inside the drawing
TICKS = 4
# Scales round their top up to the first of these (times a power of ten) above the largest value.
_NICE_STEPS = (1, 2, 2.5, 5, 10)


@dataclass(frozen=True)
class Bar:
    series: int
    series_name: str
    x: float
    y: float
    width: float
    height: float
    text: str  # the value as shown beside the bar and read out in its tooltip
    label: str  # the category (space or day)
    text_x: float  # where the value is written: right of a horizontal bar, above a column
    text_y: float


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    plot_x: float
    plot_y: float
    plot_width: float
    plot_height: float
    bars: list[Bar]
    categories: list[Tick]
    ticks: list[Tick]
    series: list[str]

    @property
    def label_x(self) -> float:
        """Where category labels end, left of a horizontal chart's bars."""
        return self.plot_x - 8

    @property
    def plot_right(self) -> float:
        return self.plot_x + self.plot_width

    @property
    def right_label_x(self) -> float:
        """Where a column chart's amounts start, right of its columns."""
        return self.plot_right + 8

    @property
    def tick_label_y(self) -> float:
        return self.height - 6


def bar_chart(
    *, title: str, categories: list[str], series: list[tuple[str, list[Decimal | None]]], unit: str = "%"
) -> Chart:
    """Horizontal bars, one group per category and one bar per series in each group; a missing
    value (None) draws no bar and reads "n/a"."""
    values = [value for _, numbers in series for value in numbers if value is not None]
    top = nice_top(max(values, default=Decimal(0)))
    group_height = len(series) * ROW_HEIGHT + BAR_GAP * 2
    plot_width = WIDTH - LABEL_WIDTH - VALUE_ROOM
    height = group_height * len(categories) + AXIS_ROOM
    bars = []
    for index, category in enumerate(categories):
        for number, (_, numbers) in enumerate(series):
            value = numbers[index]
            y = index * group_height + BAR_GAP + number * ROW_HEIGHT
            width = _scaled(value or 0, top, plot_width)
            bars.append(
                Bar(
                    series=number,
                    series_name=series[number][0],
                    x=LABEL_WIDTH,
                    y=y,
                    width=width,
                    height=ROW_HEIGHT - BAR_GAP,
                    text="n/a" if value is None else f"{value}{unit}",
                    label=category,
                    text_x=round(LABEL_WIDTH + width + 6, 2),
                    text_y=round(y + (ROW_HEIGHT - BAR_GAP) / 2, 2),
                )
            )
    return Chart(
        title=title,
        width=WIDTH,
        height=height,
        plot_x=LABEL_WIDTH,
        plot_y=0,
        plot_width=plot_width,
        plot_height=height - AXIS_ROOM,
        bars=bars,
        categories=[Tick(index * group_height + group_height / 2, text) for index, text in enumerate(categories)],
        ticks=[
            Tick(LABEL_WIDTH + _scaled(top * step / TICKS, top, plot_width), f"{_plain(top * step / TICKS)}{unit}")
            for step in range(TICKS + 1)
        ],
        series=[name for name, _ in series],
    )


def column_chart(*, title: str, categories: list[str], values: list[Decimal], label_every: int = 1) -> Chart:
    """Vertical columns, one per category (days); every ``label_every``-th category is labelled."""
    top = nice_top(max(values, default=Decimal(0)))
    left = VALUE_ROOM
    # The amounts are written on both sides: a phone scrolls the days inside the frame, opening
    # on the latest, and the scale must be in view there too.
    plot_width = COLUMN_CHART_WIDTH - 2 * left
    plot_height = COLUMN_CHART_HEIGHT - AXIS_ROOM - TOP_ROOM
    bottom = TOP_ROOM + plot_height
    slot = plot_width / max(1, len(categories))
    bars = []
    for index, (category, value) in enumerate(zip(categories, values, strict=True)):
        height = _scaled(value, top, plot_height)
        x = round(left + index * slot + slot * 0.1, 2)
        bars.append(
            Bar(
                series=0,
                series_name=title,
                x=x,
                y=round(bottom - height, 2),
                width=round(slot * 0.8, 2),
                height=height,
                text=f"{value}",
                label=category,
                text_x=round(x + slot * 0.4, 2),
                text_y=round(bottom - height - 4, 2),
            )
        )
    return Chart(
        title=title,
        width=COLUMN_CHART_WIDTH,
        height=COLUMN_CHART_HEIGHT,
        plot_x=left,
        plot_y=TOP_ROOM,
        plot_width=plot_width,
        plot_height=plot_height,
        bars=bars,
        categories=[
            Tick(round(left + index * slot + slot / 2, 2), category)
            for index, category in enumerate(categories)
            if index % label_every == 0
        ],
        ticks=[
            Tick(round(bottom - _scaled(top * step / TICKS, top, plot_height), 2), _plain(top * step / TICKS))
            for step in range(TICKS + 1)
        ],
        series=[title],
    )


def nice_top(largest) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``largest`` (1 for nothing)."""
    largest = Decimal(largest)
    if largest <= 0:
        return Decimal(1)
    power = Decimal(10) ** (largest.adjusted())
    for step in _NICE_STEPS:
        if power * Decimal(str(step)) >= largest:
            return power * Decimal(str(step))
    return power * 10


def _scaled(value, top: Decimal, length: float) -> float:
    return round(float(Decimal(value) / top) * length, 2)


def _plain(number: Decimal) -> str:
    """A tick's number without trailing zeros: 25, 2.5, 1000."""
    return f"{number.normalize():f}"
