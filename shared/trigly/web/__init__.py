"""Server-rendered pages customers open from their messages (`/l/{token}`)."""
