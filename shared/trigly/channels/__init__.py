"""Channel providers behind one small interface (SMS, email, messengers, push, sandbox)."""
