"""HTTP pieces every face (web pages, inbox, actors, discovery, API) shares: app keys, JSON
responses, rate limits, connection guard, access log."""
