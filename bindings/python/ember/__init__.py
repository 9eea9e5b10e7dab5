"""ember: an embeddable CPU inference library (Python side).

ember.format writes and reads .ember model files (docs/FORMAT.md); it needs
only the standard library and numpy.
"""
