"""``{{ amount|money }}``: an amount with the studio's currency (``photostudio.money``)."""

from django import template

from photostudio.money import money_text

register = template.Library()
register.filter("money", money_text)
