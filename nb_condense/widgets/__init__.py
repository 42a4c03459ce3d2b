"""Widgets: the explorer, the chart widget, the live training view and the offline page.

They draw; they never compute a measurement themselves (that is ``explore``'s and ``measurement``'s job).
"""
