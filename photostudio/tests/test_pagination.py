"""The API's pages: a page of a list or a queryset iterates as Django's does."""

import pytest
from django.core.paginator import Paginator

from employees.models import Employee
from employees.tests.factories import EmployeeFactory
from photostudio.pagination import PageNumberPagination


@pytest.mark.parametrize("number", [1, 2, 3])
def test_a_page_of_a_list_iterates_as_djangos_does(number):
    items = [f"item {index}" for index in range(7)]
    paginator = PageNumberPagination.django_paginator_class(items, 3)

    page = paginator.page(number)

    assert list(page) == list(Paginator(items, 3).page(number))
    assert list(page) == list(page)  # again


@pytest.mark.django_db
def test_a_page_of_a_queryset_reads_it_once(django_assert_num_queries):
    EmployeeFactory.create_batch(5)
    paginator = PageNumberPagination.django_paginator_class(Employee.objects.order_by("pk"), 2)
    page = paginator.page(2)

    with django_assert_num_queries(1):
        iterated, again = list(page), list(page)

    assert iterated == again == list(Employee.objects.order_by("pk")[2:4])
