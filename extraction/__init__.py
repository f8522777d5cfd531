"""Extraction: Federal Register documents -> structured, cited facts (dates, ECCN changes, thresholds,
license exceptions). ``extract_path`` / ``extract_xml`` are the entry points; ``regwatch extract`` wraps them.

    crawler/ (raw documents) -> extraction/ (facts, with quote + location + confidence) -> rulesdsl/ proposals
"""
