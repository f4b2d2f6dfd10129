"""The rules every figure, permission and schedule follows; they import no flow."""
