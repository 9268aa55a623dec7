"""Courses, their curation against the scheme's rules, platform listings and the participants' catalogue."""
