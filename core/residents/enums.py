from enum import StrEnum


class ContactKind(StrEnum):
    PHONE = "phone"
    TELEGRAM = "telegram"
    WEB = "web"
    EMAIL = "email"
