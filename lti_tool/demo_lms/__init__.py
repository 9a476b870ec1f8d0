"""The demo LMS: an LTI 1.3 platform of its own that launches PLC Bridge, for trying the tool out."""
