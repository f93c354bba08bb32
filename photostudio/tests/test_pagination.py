"""The API's pages: a page of a list or a queryset iterates as Django's does."""

import pytest
from django.core.paginator import Page, Paginator
from rest_framework.request import Request

from bookings.tests.api import api_as
from employees.models import Employee, Role
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


def test_the_api_iterates_a_page_without_indexing_each_item(rf, monkeypatch):
    monkeypatch.setattr(Page, "__getitem__", lambda page, index: pytest.fail("indexed item by item"))

    page = PageNumberPagination().paginate_queryset(list(range(7)), Request(rf.get("/", {"page": 2, "page_size": 3})))

    assert page == [3, 4, 5]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_a_paging_parameter_given_twice_is_refused_on_a_list_without_filters(name):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))

    response = api.get(f"/api/v1/spaces/?{name}=1&{name}=2")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == [name]
