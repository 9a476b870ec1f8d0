"""The Flask web application: the app factory, views, forms, messages, sessions and HTTP hardening."""
