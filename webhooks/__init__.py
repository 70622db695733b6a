"""The HTTP receiver (FastAPI) for forge webhooks; it lands with the webhook service work."""
