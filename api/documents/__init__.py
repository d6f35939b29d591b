"""Trade documents: registration (single and bulk), reading, timeline, cancel, erase."""
