"""JSON Web Tokens with joserfc: applications' signed assertions, and the access tokens meet issues."""
