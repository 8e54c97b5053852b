"""Build: local code and layer folders -> deterministic zips in a content-addressed store. No network calls
(except pip for requirements.txt, which is cached by the requirements' hash)."""
