from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    DISPATCHER = "dispatcher"
    DEPARTMENT = "department"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    COMPANY = "company"
    COMMITTEE = "committee"


class ScopeKind(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    COMMUNITY = "community"
    DEPARTMENT = "department"
    COMPANY = "company"
    COMMITTEE = "committee"
