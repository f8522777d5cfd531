"""Source watchers (Federal Register API and XML, eCFR, BIS pages): scrapy + APScheduler.

Not built yet: see the crawler issue. The package exists so that the pipeline stages have their place.
"""
