"""Platform services every domain uses: settings, clock, observability, errors, tenancy, ids."""
