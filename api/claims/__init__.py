"""Claims on confirmed invoices: confirmation, offers, relaying, the indexer."""
