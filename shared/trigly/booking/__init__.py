"""Online booking: free service slots from a location's capacity, and booking one."""
