"""The reports' SVG bar charts: scales that read well and bars that say their values."""

from decimal import Decimal

import pytest

from bookings import charts


@pytest.mark.parametrize(
    ("largest", "top"),
    [
        (0, "1"),
        (Decimal("0.8"), "1"),
        (Decimal("1.9"), "2"),
        (7, "10"),
        (Decimal("33.3"), "50"),
        (160, "200"),
        (2400, "2500"),
    ],
)
def test_scale_tops_are_round_numbers_above_the_largest_value(largest, top):
    assert charts.nice_top(largest) == Decimal(top)


def test_bar_chart_draws_one_bar_per_space_and_series():
    chart = charts.bar_chart(
        title="Rates",
        categories=["Studio A", "Studio B"],
        series=[("No-show rate", [Decimal("25.0"), None]), ("Cancellation rate", [Decimal("50.0"), Decimal("0.0")])],
    )

    assert [(bar.label, bar.series_name, bar.text) for bar in chart.bars] == [
        ("Studio A", "No-show rate", "25.0%"),
        ("Studio A", "Cancellation rate", "50.0%"),
        ("Studio B", "No-show rate", "n/a"),
        ("Studio B", "Cancellation rate", "0.0%"),
    ]
    plot_width = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_ROOM
    assert chart.bars[1].width == plot_width  # 50 is the top of the scale
    assert chart.bars[0].width == plot_width / 2
    assert chart.bars[2].width == 0
    assert [tick.text for tick in chart.ticks] == ["0%", "12.5%", "25%", "37.5%", "50%"]


def test_column_chart_labels_every_nth_day_and_scales_to_the_best_day():
    chart = charts.column_chart(
        title="Revenue",
        categories=["01", "02", "03", "04"],
        values=[Decimal(0), Decimal(80), Decimal(160), Decimal(40)],
        label_every=2,
    )

    assert [tick.text for tick in chart.categories] == ["01", "03"]
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0
    assert heights[2] == pytest.approx(heights[1] * 2)
    assert [tick.text for tick in chart.ticks] == ["0", "50", "100", "150", "200"]
    assert all(bar.y + bar.height == pytest.approx(charts.COLUMN_CHART_HEIGHT - charts.AXIS_ROOM) for bar in chart.bars)
