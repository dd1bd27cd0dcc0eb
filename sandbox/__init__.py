"""Local stand-ins for every external service, speaking their real wire protocols."""
