"""PLC Bridge's application: LTI protocol, use cases, web pages, workers, documents, CLI and the demo LMS."""
