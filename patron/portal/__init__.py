"""The member's own pages (H5, `/m/`, API.md §10):
join, log in, card, history, messages, privacy.
"""
