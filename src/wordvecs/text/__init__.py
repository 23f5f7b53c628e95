"""Text input: dataset readers (CSV, TSV, JSONL, folders), tokenizers, vocabulary."""
