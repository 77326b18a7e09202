"""Pictures. ``*_plots`` modules are pure plots: functions that return a matplotlib Figure and
know nothing of widgets (checked by tests/test_layout.py). ``*_explorer`` modules are ipywidgets
panels over those plots, all of one shape (``explorer.Explorer``: ``.widget``, ``.settings()``,
``.draw(**settings) -> Figure``). ``figures`` holds what the plots share."""
