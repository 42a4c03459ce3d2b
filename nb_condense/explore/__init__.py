"""Exploration without a front end: sessions (cached queries), background measuring jobs, chart frames and specs."""
