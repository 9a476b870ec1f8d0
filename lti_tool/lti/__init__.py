"""LTI 1.3 and LTI Advantage protocol code, without Flask: launch, registration, deep linking, AGS, NRPS."""
