from django.urls import re_path

from bookings.api import views

# Every path answers with and without a trailing slash, as the guide's examples use none.
urlpatterns = [
    re_path(r"^bookings/?$", views.BookingListView.as_view(), name="api-bookings"),
    re_path(r"^bookings/health/?$", views.BookingsHealthView.as_view(), name="api-bookings-health"),
    re_path(r"^bookings/(?P<pk>[0-9]+)/?$", views.BookingDetailView.as_view(), name="api-booking"),
    re_path(r"^bookings/(?P<pk>[0-9]+)/state/?$", views.BookingStateView.as_view(), name="api-booking-state"),
    re_path(
        r"^bookings/(?P<pk>[0-9]+)/reschedule/?$", views.BookingRescheduleView.as_view(), name="api-booking-reschedule"
    ),
    re_path(r"^bookings/(?P<pk>[0-9]+)/history/?$", views.BookingHistoryView.as_view(), name="api-booking-history"),
    re_path(r"^bookings/series/?$", views.SeriesCreateView.as_view(), name="api-series"),
    re_path(r"^bookings/series/(?P<pk>[0-9]+)/?$", views.SeriesDetailView.as_view(), name="api-series-detail"),
    re_path(r"^bookings/series/(?P<pk>[0-9]+)/cancel/?$", views.SeriesCancelView.as_view(), name="api-series-cancel"),
    re_path(r"^bookings/series/(?P<pk>[0-9]+)/move/?$", views.SeriesMoveView.as_view(), name="api-series-move"),
    re_path(r"^spaces/?$", views.SpaceListView.as_view(), name="api-spaces"),
    re_path(r"^spaces/(?P<slug>[-a-zA-Z0-9_]+)/?$", views.SpaceDetailView.as_view(), name="api-space"),
    re_path(
        r"^spaces/(?P<slug>[-a-zA-Z0-9_]+)/free-slots/?$", views.FreeSlotsView.as_view(), name="api-space-free-slots"
    ),
    re_path(r"^closures/?$", views.ClosureListView.as_view(), name="api-closures"),
    re_path(r"^closures/(?P<pk>[0-9]+)/?$", views.ClosureDetailView.as_view(), name="api-closure"),
    re_path(r"^clients/?$", views.ClientListView.as_view(), name="api-clients"),
    re_path(r"^clients/(?P<pk>[0-9]+)/?$", views.ClientDetailView.as_view(), name="api-client"),
    re_path(r"^clients/(?P<pk>[0-9]+)/history/?$", views.ClientHistoryView.as_view(), name="api-client-history"),
    re_path(r"^reports/?$", views.ReportView.as_view(), name="api-reports"),
    re_path(r"^waitlist/?$", views.WaitlistListView.as_view(), name="api-waitlist"),
    re_path(r"^waitlist/(?P<pk>[0-9]+)/?$", views.WaitlistDetailView.as_view(), name="api-waitlist-entry"),
    re_path(r"^waitlist/(?P<pk>[0-9]+)/book/?$", views.WaitlistBookView.as_view(), name="api-waitlist-book"),
    re_path(
        r"^waitlist/(?P<pk>[0-9]+)/withdraw/?$", views.WaitlistWithdrawView.as_view(), name="api-waitlist-withdraw"
    ),
]
