"""Core data: the measured result, numpy summaries, files and layer indices (numpy and pandas only).

Nothing here imports torch, transformers, Altair or anywidget: a saved result is read and summarised with this
tier alone.
"""
