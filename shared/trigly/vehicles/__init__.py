"""Cars: identifiers (VINs, Japanese frame numbers), decoding and plates."""
