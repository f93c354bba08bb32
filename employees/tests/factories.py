import factory

from employees.models import Employee, Role

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"employee{n}")
    full_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda employee: f"{employee.username}@studio.test")
    role = Role.RECEPTIONIST
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])
