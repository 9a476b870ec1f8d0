"""Printable documents (PDF), QR codes and the dashboard's chart geometry."""
