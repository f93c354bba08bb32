import pytest
from django.urls import get_resolver, resolve, reverse

# A value for each URL parameter the studio's addresses take.
_EXAMPLE_ARGUMENTS = {"pk": 7, "slug": "studio_a", "token": "abc123", "uidb64": "MQ"}


def _named_addresses():
    resolver = get_resolver()
    for name in sorted(key for key in resolver.reverse_dict if isinstance(key, str)):
        parameters = resolver.reverse_dict.getlist(name)[0][0][0][1]
        yield name, {parameter: _EXAMPLE_ARGUMENTS[parameter] for parameter in parameters}


@pytest.mark.parametrize(("name", "kwargs"), list(_named_addresses()))
def test_every_named_address_resolves_to_its_own_view(name, kwargs):
    """The URL patterns are tried in order: none may shadow another's address."""
    assert resolve(reverse(name, kwargs=kwargs)).url_name == name
