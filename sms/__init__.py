"""SMS over Twilio: signed webhooks, replies, delivery status, sending, opt-out, segments."""
