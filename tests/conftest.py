"""Puts tests/ on the import path (pytest does so for a conftest's folder), so test modules
can ``from kit import ...`` the shared helpers."""
