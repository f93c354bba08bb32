from django.urls import re_path

from employees.api import views

# Every path answers with and without a trailing slash, as the guide's examples use none.
urlpatterns = [
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="api-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="api-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="api-logout"),
    re_path(r"^employees/?$", views.EmployeeListView.as_view(), name="api-employees"),
    re_path(r"^employees/profile/?$", views.ProfileView.as_view(), name="api-profile"),
    re_path(r"^employees/profile/calendar-feed/?$", views.CalendarFeedView.as_view(), name="api-calendar-feed"),
    re_path(r"^employees/profile/sessions/?$", views.SignInListView.as_view(), name="api-sign-ins"),
    re_path(r"^employees/profile/sessions/(?P<pk>[0-9]+)/?$", views.SignInDetailView.as_view(), name="api-sign-in"),
    re_path(r"^employees/profile/mfa/?$", views.MfaView.as_view(), name="api-mfa"),
    re_path(r"^employees/profile/mfa/enrolment/?$", views.MfaEnrolmentView.as_view(), name="api-mfa-enrolment"),
    re_path(r"^employees/profile/mfa/enrolment/confirm/?$", views.MfaConfirmView.as_view(), name="api-mfa-confirm"),
    re_path(r"^employees/profile/mfa/backup-codes/?$", views.BackupCodesView.as_view(), name="api-mfa-backup-codes"),
    re_path(r"^employees/profile/mfa/disable/?$", views.MfaDisableView.as_view(), name="api-mfa-disable"),
    re_path(r"^employees/(?P<pk>[0-9]+)/?$", views.EmployeeDetailView.as_view(), name="api-employee"),
]
