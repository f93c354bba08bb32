from django.contrib.auth import views as auth_views
from django.urls import path

from employees import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify_view, name="login-verify"),
    path("logout/", views.logout_view, name="logout"),
    path("profile/", views.profile_view, name="profile"),
    path("profile/calendar-feed/", views.regenerate_calendar_feed_view, name="calendar-feed-regenerate"),
    path("profile/sign-ins/<int:pk>/end/", views.end_sign_in_view, name="sign-in-end"),
    path("profile/sign-ins/end-others/", views.end_other_sign_ins_view, name="sign-ins-end-others"),
    path("profile/mfa/enroll/", views.mfa_enroll_view, name="mfa-enroll"),
    path("profile/mfa/backup-codes/", views.backup_codes_view, name="mfa-backup-codes"),
    path("profile/mfa/disable/", views.mfa_disable_view, name="mfa-disable"),
    path("password/change/", views.password_change_view, name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
