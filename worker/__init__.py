"""policywatch: watches Korean tech-policy news and alerts on new figures and changed positions."""

__version__ = "0.1.0"
