"""Mail over SMTP (aiosmtplib)."""
