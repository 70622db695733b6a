"""The pure domain: guidelines, policies, checks. No network, database or web framework here."""
