from django.urls import path

from bookings import views

urlpatterns = [
    path("", views.today_view, name="today"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/feeds/<str:token>.ics", views.calendar_feed_view, name="calendar-feed"),
    path("calendar/day-sheet/", views.day_sheet_view, name="day-sheet"),
    path("bookings/", views.booking_list_view, name="booking-list"),
    path("bookings/new/", views.booking_create_view, name="booking-new"),
    path("bookings/new/price/", views.price_preview_view, name="booking-price"),
    path("bookings/<int:pk>/", views.booking_detail_view, name="booking-detail"),
    path("bookings/<int:pk>/edit/", views.booking_edit_view, name="booking-edit"),
    path("bookings/<int:pk>/state/", views.booking_transition_view, name="booking-transition"),
    path("bookings/series/<int:pk>/cancel/", views.series_cancel_view, name="series-cancel"),
    path("bookings/series/<int:pk>/move/", views.series_move_view, name="series-move"),
    path("clients/", views.client_list_view, name="client-list"),
    path("clients/search/", views.client_search_view, name="client-search"),
    path("clients/<int:pk>/", views.client_detail_view, name="client-detail"),
    path("clients/<int:pk>/edit/", views.client_edit_view, name="client-edit"),
    path("waitlist/", views.waitlist_view, name="waitlist"),
    path("waitlist/add/", views.waitlist_add_view, name="waitlist-add"),
    path("waitlist/<int:pk>/", views.waitlist_entry_view, name="waitlist-entry"),
    path("waitlist/<int:pk>/book/", views.waitlist_book_view, name="waitlist-book"),
    path("waitlist/<int:pk>/withdraw/", views.waitlist_withdraw_view, name="waitlist-withdraw"),
    path("reports/", views.reports_view, name="reports"),
    path("reports/csv/", views.reports_csv_view, name="reports-csv"),
]
