"""Webhook event handlers, one module and one Router per event family."""
