import pytest

from bookings.tests.factories import PhotographerFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory


@pytest.fixture
def receptionist():
    return EmployeeFactory(role=Role.RECEPTIONIST)


@pytest.fixture
def manager():
    return EmployeeFactory(role=Role.MANAGER)


@pytest.fixture
def admin():
    return EmployeeFactory(role=Role.ADMIN)


@pytest.fixture
def photographer():
    return PhotographerFactory()


@pytest.fixture
def studio():
    """Open 08:00-22:00 every day, 15 minutes' buffer, 50.00 an hour, up to 6 people."""
    return SpaceFactory(slug="test_studio", name="Test Studio")
