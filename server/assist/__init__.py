"""Services at home: requests from every channel, providers and volunteers, ratings, decision figures."""
