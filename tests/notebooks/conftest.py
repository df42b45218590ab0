"""Registers the ``notebooks`` marker, so ``pytest -m notebooks`` (or ``pytest tests/notebooks``)
selects the notebook tests and ``pytest -m "not notebooks"`` leaves them out."""


def pytest_configure(config):  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", "notebooks: executes the Jupyter notebooks in notebooks/")
