"""The staff roles. Each is a Django group (created by migration core.0002) with permissions.

The group names are what staff see; the codes are what code uses. docs/roles.md says what
each role may see and do; `yfbz.core.scoping` decides which rows each role reaches.
"""

from enum import StrEnum


class Role(StrEnum):
    TOWN_CLERK = "镇街经办员"
    DEPT_OFFICER = "部门数据员"
    DISTRICT_CLERK = "区医保经办"
    DISTRICT_REVIEWER = "区医保审核"
    FINANCE = "财务"
    AUDITOR = "审计"
    SYSADMIN = "系统管理员"
    SECURITY_ADMIN = "安全管理员"
    # the bureau's leadership: every town's totals, read-only, never a person (docs/statistics.md)
    LEADERSHIP = "局领导"
    # city-level pooling (医疗救助市级统筹, docs/areas.md): sees every district's records; alone it only reads
    CITY = "市级医保"


# Separation of duties (三权分立, docs/security.md): system administration (reference data, policy),
# security administration (staff accounts and roles) and audit are different people. A user
# holding two of these is refused at every role change (yfbz.core.accounts).
SEPARATED_DUTIES = (frozenset({Role.SYSADMIN}), frozenset({Role.SECURITY_ADMIN}), frozenset({Role.AUDITOR}))

# Roles that only read: a user holding nothing else is refused every write (yfbz.core.middleware.ReadOnlyRoles)
READ_ONLY_ROLES = frozenset({Role.AUDITOR})

# Roles whose members must log in with a second factor when settings.YFBZ_OTP_REQUIRED is on:
# those that move money or grant access.
SECOND_FACTOR_ROLES = frozenset({Role.DISTRICT_REVIEWER, Role.FINANCE, Role.SECURITY_ADMIN, Role.SYSADMIN})


# Roles that see every town's and every department's records of their district (User.district, else the
# bureau's): the records made while a town was under it (docs/areas.md).
DISTRICT_WIDE = frozenset({Role.DISTRICT_CLERK, Role.DISTRICT_REVIEWER, Role.FINANCE, Role.AUDITOR, Role.SYSADMIN, Role.CITY})

# Roles that see every district (the city level, 市级统筹)
CITY_WIDE = frozenset({Role.CITY})

# Which model permissions each role holds, as (app_label, model, actions). "*" = every model of
# the app. Later apps add their models here; migration core.0002 and the post_migrate hook in
# yfbz/core/apps.py apply it, so new models get their permissions without a new data migration.
ALL = ("view", "add", "change", "delete")
VIEW = ("view",)
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str, tuple[str, ...]]]] = {
    # read-only totals: the statistics, the dashboard, approved returns, budgets; no model that holds people
    Role.LEADERSHIP: [
        ("reporting", "aggregate", VIEW),
        ("reporting", "statreturn", VIEW),
        ("reporting", "fundbudget", VIEW),
    ],
    # the city level: reads every district's people, bills, decisions, funds and totals
    Role.CITY: [
        ("areas", "*", VIEW),
        ("beneficiaries", "*", VIEW),
        ("claims", "*", VIEW),
        ("funding", "*", VIEW),
        ("policy", "*", VIEW),
        ("reporting", "aggregate", VIEW),
        ("reporting", "statreturn", VIEW),
        ("reporting", "fundbudget", VIEW),
    ],
    Role.TOWN_CLERK: [
        ("beneficiaries", "person", ("view", "change")),
        ("beneficiaries", "identity", VIEW),
        ("beneficiaries", "town", VIEW),
        ("beneficiaries", "category", VIEW),
        ("beneficiaries", "department", VIEW),
        ("areas", "*", VIEW),
        # claims: their town's bills, decisions, notices and one-stop lines (scoped by person__town)
        ("claims", "*", VIEW),
        # funding: their town's subsidy lists and the self-paid (route b) reports (docs/funding.md)
        ("funding", "subsidyresult", VIEW),
        ("funding", "enrolment", ("view", "change")),
        ("funding", "selfpaidreport", ("view", "add")),
        ("reporting", "aggregate", VIEW),  # their own town's totals
        # monitoring: their town's alerts (follow-up recorded through monitoring.followup) and referrals
        ("monitoring", "alert", ("view", "change")),
        ("monitoring", "followup", ("view", "add")),
        ("monitoring", "referral", VIEW),
        ("monitoring", "highcostrow", VIEW),
        # monitoring: applications for assistance of their town (monitoring.applications)
        ("monitoring", "application", ("view", "add", "change")),
        ("monitoring", "applicationpaper", ("view", "add")),
    ],
    Role.DEPT_OFFICER: [
        ("beneficiaries", "person", VIEW),
        ("beneficiaries", "identity", VIEW),
        ("beneficiaries", "town", VIEW),
        ("beneficiaries", "category", VIEW),
        ("beneficiaries", "categoryalias", VIEW),
        ("beneficiaries", "department", VIEW),
        # monitoring: the referrals to their department (outcome recorded through monitoring.followup)
        ("monitoring", "referral", ("view", "change")),
        ("monitoring", "alert", VIEW),
    ],
    Role.DISTRICT_CLERK: [
        ("areas", "*", VIEW),
        ("beneficiaries", "*", ALL),
        ("claims", "*", ALL),
        ("policy", "*", VIEW),
        ("funding", "*", VIEW),
        # funding: the bureau runs subsidies, verifies self-paid lists, compiles fund requests
        ("funding", "subsidyrun", ("add",)),
        ("funding", "taxlistsettlement", ("add",)),
        ("funding", "enrolment", ("add", "change")),
        ("funding", "selfpaidreport", ("change",)),
        ("funding", "latereportpermission", ("add",)),
        ("funding", "fundrequest", ("add", "change")),
        ("funding", "receivable", ("add",)),
        ("reporting", "aggregate", VIEW),
        ("reporting", "statreturn", ("view", "add")),
        ("reporting", "fundbudget", VIEW),
        ("monitoring", "*", VIEW),
        ("monitoring", "alert", ("change",)),
        ("monitoring", "followup", ("add",)),
        ("monitoring", "highcostimport", ("add",)),
        ("monitoring", "application", ("change",)),
    ],
    Role.DISTRICT_REVIEWER: [
        ("areas", "*", VIEW),
        ("beneficiaries", "*", ("view", "change")),
        ("claims", "*", ("view", "change")),
        ("policy", "*", VIEW),
        ("funding", "*", VIEW),
        # funding: checks (approves) fund requests, self-paid reports, ledger entries, bank confirmations
        ("funding", "fundrequest", ("change",)),
        ("funding", "selfpaidreport", ("change",)),
        ("funding", "journalentry", ("change",)),
        ("funding", "paymentbatch", ("change",)),
        ("funding", "receivable", ("add",)),
        ("reporting", "aggregate", VIEW),
        ("reporting", "statreturn", ("view", "change")),
        ("reporting", "fundbudget", VIEW),
        ("monitoring", "*", VIEW),
        ("monitoring", "application", ("change",)),
    ],
    Role.FINANCE: [
        ("areas", "*", VIEW),
        ("funding", "*", ALL),
        ("claims", "*", VIEW),
        ("beneficiaries", "person", VIEW),
        ("beneficiaries", "town", VIEW),
        ("policy", "*", VIEW),
        ("reporting", "aggregate", VIEW),
        ("reporting", "statreturn", ("view", "add", "change")),
        ("reporting", "fundbudget", ALL),
        ("reporting", "warningrule", VIEW),
    ],
    Role.AUDITOR: [
        ("areas", "*", VIEW),
        ("beneficiaries", "*", VIEW),
        ("claims", "*", VIEW),
        ("funding", "*", VIEW),
        ("policy", "*", VIEW),
        ("auditlog", "*", VIEW),
        ("core", "*", VIEW),
        ("reporting", "*", VIEW),
        ("monitoring", "*", VIEW),
    ],
    # reference data and policy only: no staff accounts, no bills, no money
    Role.SYSADMIN: [
        ("areas", "*", ALL),
        ("beneficiaries", "*", VIEW),
        *[("beneficiaries", m, ALL) for m in ("town", "department", "category", "categoryalias")],
        ("claims", "*", VIEW),
        ("claims", "institution", ALL),
        ("claims", "institutionbankchange", ("add",)),
        ("funding", "*", VIEW),
        *[("funding", m, ALL) for m in ("subsidyyear", "youfubudget", "taxcategorywording")],
        ("policy", "*", ALL),
        ("reporting", "aggregate", VIEW),
        ("reporting", "warningrule", ALL),
        ("monitoring", "burdenthreshold", ALL),
        ("monitoring", "disposableincome", ALL),
        ("monitoring", "deadlinerule", ALL),
    ],
    # staff accounts and roles, unlocking accounts, resetting second factors; sees no one's data
    Role.SECURITY_ADMIN: [
        ("core", "user", ALL),
        ("auth", "group", VIEW),
        ("axes", "accessattempt", ("view", "delete")),
        ("axes", "accessfailurelog", VIEW),
        ("axes", "accesslog", VIEW),
        ("otp_totp", "totpdevice", ("view", "delete")),
    ],
}


def sync_role_groups(apps=None, **kwargs):
    """Create the role groups and give them exactly the permissions of ROLE_PERMISSIONS."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=global_apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        perms = []
        for app_label, model, actions in grants:
            qs = Permission.objects.filter(content_type__app_label=app_label)
            if model != "*":
                qs = qs.filter(content_type__model=model)
            for action in actions:
                perms.extend(qs.filter(codename__startswith=f"{action}_"))
        group.permissions.set(perms)
