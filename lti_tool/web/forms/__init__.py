"""Form classes, one per form a person posts (WTForms), with the session-bound token of base.py."""
