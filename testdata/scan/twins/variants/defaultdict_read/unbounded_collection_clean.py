"""Feature flag evaluation for the web tier.

Flags have global defaults; a handful of tenants carry overrides loaded
from the admin console at start-up.
"""
from collections import defaultdict


class FlagSource:
    """Stand-in for the admin console export."""

    def load(self):
        return [
            ("acme", "new_checkout", True),
            ("acme", "beta_search", True),
            ("globex", "dark_mode", False),
            ("initech", "new_checkout", True),
        ]


class FlagStore:
    defaults = {"new_checkout": False, "dark_mode": True, "beta_search": False}

    def __init__(self):
        self._overrides = defaultdict(dict)

    def set_override(self, tenant, flag, value):
        if flag not in self.defaults:
            raise KeyError(flag)
        self._overrides[tenant][flag] = value

    def tenants_with_overrides(self):
        return sorted(t for t, flags in self._overrides.items() if flags)


class TenantFlags(FlagStore):
    def __init__(self, source):
        super().__init__()
        for tenant, flag, value in source.load():
            self.set_override(tenant, flag, value)

    def is_enabled(self, tenant, flag):
        overrides = self._overrides.get(tenant)
        if not overrides:
            return self.defaults.get(flag, False)
        return overrides.get(flag, self.defaults.get(flag, False))

    def snapshot(self, tenant):
        return {flag: self.is_enabled(tenant, flag) for flag in self.defaults}


class PageService:
    def __init__(self):
        self.flags = TenantFlags(FlagSource())
        self.pages = 0

    def render_home(self, tenant, user):
        flags = self._flags_for(tenant)
        self.pages += 1
        layout = "dark" if flags["dark_mode"] else "light"
        checkout = "v2" if flags["new_checkout"] else "v1"
        return f"<home tenant={tenant} user={user} layout={layout} checkout={checkout}>"

    def _flags_for(self, tenant):
        return self.flags.snapshot(tenant)


SERVICE = PageService()
KNOWN_TENANTS = ("acme", "globex", "initech")


def resolve_tenant(n):
    if n % 4 == 0:
        return KNOWN_TENANTS[n % 3]
    return f"trial-{n}"


def handle_request(n):
    tenant = resolve_tenant(n)
    return SERVICE.render_home(tenant, user=f"u{n % 97}")


if __name__ == "__main__":
    for n in range(1000):
        handle_request(n)
