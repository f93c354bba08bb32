"""Admin for the studio's reference data (spaces) and read-only views of clients and bookings.

Clients and bookings change only through ``bookings.services``, whose rules, permission checks
and events the admin's plain save would skip; here managers look them up.
"""

from django.contrib import admin

from bookings.models import Booking, Client, Space


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "capacity", "hourly_rate", "buffer_minutes", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Client)
class ClientAdmin(ReadOnlyAdmin):
    list_display = ["full_name", "phone", "email", "created_at"]
    search_fields = ["full_name", "phone", "email"]
    readonly_fields = ["created_at", "created_by", "updated_at", "updated_by"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["id", "start", "end", "space", "client", "photographer", "people_count", "price", "state"]
    list_filter = ["state", "space", "photographer"]
    list_select_related = ["space", "client", "photographer"]
    search_fields = ["client__full_name", "client__phone", "notes"]
    date_hierarchy = "start"
    readonly_fields = ["blocks_until", "price_overridden", "created_at", "created_by", "updated_at", "updated_by"]
