"""The dealer group's structure: dealer centres and service stations, their brands and hours."""
