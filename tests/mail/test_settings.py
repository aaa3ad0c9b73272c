"""KINWARD_SMTP_* and KINWARD_BASE_URL: read, checked, and refused with a message that says what is wrong."""

from __future__ import annotations

import pytest

from app.mail.sender import delivery_mode
from app.settings import Settings, SettingsError


def test_smtp_settings_are_read_from_the_environment():
    settings = Settings.from_env({
        "KINWARD_SMTP_HOST": "smtp.example.org", "KINWARD_SMTP_PORT": "587", "KINWARD_SMTP_USER": "kinward",
        "KINWARD_SMTP_PASSWORD": "s3cret", "KINWARD_SMTP_FROM": "Riverside Care <care@riverside.example>",
        "KINWARD_SMTP_STARTTLS": "yes", "KINWARD_BASE_URL": "https://care.riverside.example/",
    })
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user) == ("smtp.example.org", 587, "kinward")
    assert settings.smtp_from == "Riverside Care <care@riverside.example>" and settings.smtp_starttls == "yes"
    assert settings.base_url == "https://care.riverside.example"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("environ,message", [
    ({"KINWARD_SMTP_PORT": "0"}, "KINWARD_SMTP_PORT must be between 1 and 65535"),
    ({"KINWARD_SMTP_PORT": "smtp"}, "KINWARD_SMTP_PORT must be a whole number"),
    ({"KINWARD_SMTP_USER": "kinward"}, "KINWARD_SMTP_USER and KINWARD_SMTP_PASSWORD must be set together"),
    ({"KINWARD_SMTP_PASSWORD": "x"}, "KINWARD_SMTP_USER and KINWARD_SMTP_PASSWORD must be set together"),
    ({"KINWARD_SMTP_FROM": "not an address"}, "KINWARD_SMTP_FROM must be an email address"),
    ({"KINWARD_SMTP_STARTTLS": "maybe"}, "KINWARD_SMTP_STARTTLS must be one of auto, yes, no"),
    ({"KINWARD_SMTP_USER": "u", "KINWARD_SMTP_PASSWORD": "p", "KINWARD_SMTP_STARTTLS": "no"}, "unencrypted"),
    ({"KINWARD_BASE_URL": "care.example.org"}, "KINWARD_BASE_URL must be the address people open"),
    ({"KINWARD_BASE_URL": "ftp://care.example.org"}, "KINWARD_BASE_URL must be the address people open"),
])
def test_unusable_mail_settings_are_refused_clearly(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_production_mail_needs_the_address_people_open():
    production = {"KINWARD_ENV": "production", "KINWARD_SECRET_KEY": "k" * 40, "KINWARD_SMTP_HOST": "smtp.example.org"}
    with pytest.raises(SettingsError, match="KINWARD_BASE_URL must be set when KINWARD_SMTP_HOST is set"):
        Settings.from_env(production)
    assert Settings.from_env({**production, "KINWARD_BASE_URL": "https://care.example.org"}).smtp_host


def test_without_a_server_mail_is_logged_in_development_and_kept_in_production():
    assert delivery_mode(Settings(env="development")) == "log"
    assert delivery_mode(Settings(env="production")) == "hold"
    assert delivery_mode(Settings(env="production", smtp_host="smtp.example.org")) == "smtp"
