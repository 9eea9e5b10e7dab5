"""Prints the version from include/ember.h, the one place it is defined."""
import pathlib
import re

header = (pathlib.Path(__file__).resolve().parent.parent / "include" / "ember.h").read_text()
parts = [re.search(r"#define EMBER_VERSION_%s (\d+)" % p, header).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
print(".".join(parts))
