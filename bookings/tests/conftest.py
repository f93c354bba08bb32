import pytest

from bookings.tests.factories import PhotographerFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory, verified_login


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


# The same people signed in to the staff pages (a manager through the second factor too).
@pytest.fixture
def desk(client, receptionist):
    client.force_login(receptionist)
    return client


@pytest.fixture
def camera(client, photographer):
    client.force_login(photographer)
    return client


@pytest.fixture
def boss(client, manager):
    verified_login(client, manager)
    return client
