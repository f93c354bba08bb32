import pytest

from employees import services
from employees.models import Employee, Role
from employees.tests.factories import EmployeeFactory
from photostudio.errors import PermissionDenied

pytestmark = pytest.mark.django_db

STRONG = "willow-harbour-copper-77"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_a_manager_cannot_create_an_employee_of_their_rank_or_above(role):
    manager = EmployeeFactory(role=Role.MANAGER)

    with pytest.raises(PermissionDenied):
        services.create_employee(actor=manager, username="climber", password=STRONG, role=role)

    assert not Employee.objects.filter(username="climber").exists()
