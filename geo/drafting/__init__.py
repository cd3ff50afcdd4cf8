"""From a report's text to draft events: language data, places, dates, what happened, drafts."""
