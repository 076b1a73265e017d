"""The measure engine: measure files, their compilation to SQL over facts, evaluation, gaps."""
