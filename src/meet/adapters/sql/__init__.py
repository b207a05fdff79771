"""What every SQL adapter shares, whatever the driver: table names, row mapping and error translation."""
